// A file a student opened on the drawing pad -> its pixels as the browser decodes them, or why it is
// refused. The limits are vae.limits' (the pad gets them from vae/drawpad.py), checked before decoding
// where the file's size and first bytes tell; the texts are the catalogue's, Python's placeholders filled
// in here. The server never sees the file: it hears the 28x28 that photo.mjs makes of these pixels.

import { grayPixels } from "./plane.mjs";

// The first bytes of each format vae.limits.UPLOAD_FORMATS names: no other file reaches the browser's decoders.
const SIGNATURES = {
  PNG: [[0, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]]],
  JPEG: [[0, [0xff, 0xd8, 0xff]]],
  GIF: [[0, [0x47, 0x49, 0x46, 0x38]]],
  BMP: [[0, [0x42, 0x4d]]],
  WEBP: [[0, [0x52, 0x49, 0x46, 0x46]], [8, [0x57, 0x45, 0x42, 0x50]]],
};

// A file's first 12 bytes -> the name of its format in SIGNATURES, or null.
export const formatOf = (head) =>
  Object.keys(SIGNATURES).find((name) => SIGNATURES[name].every(([at, bytes]) => bytes.every((b, i) => head[at + i] === b))) ?? null;

// A catalogue text with Python's str.format placeholders ({name}, {name:.1f}) filled in.
export const fill = (template, values = {}) =>
  template.replace(/\{(\w+)(?::\.(\d+)f)?\}/g, (all, name, digits) =>
    !(name in values) ? all : digits === undefined ? String(values[name]) : Number(values[name]).toFixed(Number(digits)));

// -> { rgba (unpremultiplied, as getImageData gives), width, height, format } or { refused: a key of the
// catalogue's errors.images, values: its placeholders }. Decoded as Pillow decodes: no colour management,
// EXIF orientation applied (vae.images.open_image's exif_transpose).
export async function readPicture(file, { maxBytes, maxPixels, formats }) {
  if (file.size === 0) return { refused: "empty" };
  if (file.size > maxBytes) return { refused: "too_large", values: { mb: file.size / 1e6, limit: maxBytes / 1e6 } };
  const format = formatOf(new Uint8Array(await file.slice(0, 12).arrayBuffer()));
  if (!formats.includes(format)) return { refused: "unreadable", values: { kind: file.type || "?" } };
  let bitmap;
  try {
    bitmap = await createImageBitmap(file, { colorSpaceConversion: "none", premultiplyAlpha: "none", imageOrientation: "from-image" });
  } catch (error) {
    return { refused: "unreadable", values: { kind: `${format}: ${error.name}` } };
  }
  const { width, height } = bitmap;
  if (width * height > maxPixels) {
    bitmap.close();
    return { refused: "too_many_pixels", values: { width, height, limit: maxPixels / 1e6 } };
  }
  const context = new OffscreenCanvas(width, height).getContext("2d", { willReadFrequently: true });
  context.drawImage(bitmap, 0, 0);
  bitmap.close();
  return { rgba: context.getImageData(0, 0, width, height).data, width, height, format };
}

// The browser decodes an animation's first frame, as vae.images does; whether there were more (to say so,
// as Python does) only WebCodecs' ImageDecoder can tell, in the browsers that have it (false elsewhere).
export async function isAnimated(file, format) {
  if (!globalThis.ImageDecoder || !["GIF", "PNG", "WEBP"].includes(format)) return false;
  try {
    const decoder = new ImageDecoder({ data: await file.arrayBuffer(), type: `image/${format.toLowerCase()}` });
    await decoder.tracks.ready;
    const animated = decoder.tracks.selectedTrack?.animated === true;
    decoder.close();
    return animated;
  } catch {
    return false;
  }
}

// photo.mjs's grayscale picture ({ gray, width, height }, in [0, 1]) as a canvas the pad draws in place of strokes.
export function pictureCanvas({ gray, width, height }) {
  const canvas = new OffscreenCanvas(width, height);
  canvas.getContext("2d").putImageData(grayPixels(gray, new ImageData(width, height)), 0, 0);
  return canvas;
}
