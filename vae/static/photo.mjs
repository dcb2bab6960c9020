// A picture the page decoded (an upload: unpremultiplied RGBA bytes, EXIF orientation applied) becomes
// an MNIST-style 28x28 in the page: the second implementation of steps P1 (after decoding) to P4 of
// the specification in vae/images.py's docstring, then digit.mjs's steps 1-7. Pure functions of typed
// arrays (node runs them in tests/test_photo_parity.py against vae.images).
//
// Python computes these steps with Pillow, numpy and scipy.ndimage; each function here repeats their
// arithmetic operation by operation (integer formulas, float32 rounding after every float32 operation,
// summation orders), so that both sides make the same comparisons and the digit comes out the same.

import { preprocess } from "./digit.mjs";

const f32 = Math.fround;

// Pillow's premultiplication of a channel by alpha (its MULDIV255).
function muldiv255(value, alpha) {
  const t = value * alpha + 128;
  return ((t >> 8) + t) >> 8;
}

// Step P1, the shrink: Pillow's Image.reduce(factor), factor = ceil(longer side / side). Pillow reduces an
// RGBA image premultiplied (RGBA -> RGBa, reduce, RGBa -> RGBA) with its own integer formulas; on an
// opaque picture that round trip is the identity, so this one path also mirrors RGB and L pictures.
export function shrinkRGBA(rgba, width, height, side) {
  const factor = Math.ceil(Math.max(width, height) / side);
  if (factor <= 1) return { rgba, width, height };
  const outWidth = Math.ceil(width / factor);
  const outHeight = Math.ceil(height / factor);
  const sums = new Uint32Array(outWidth * outHeight * 4);
  for (let y = 0; y < height; y++) {
    const boxes = ((y / factor) | 0) * outWidth * 4;
    for (let box = 0; box < outWidth; box++) {
      let r = 0;
      let g = 0;
      let b = 0;
      let a = 0;
      const end = 4 * (y * width + Math.min((box + 1) * factor, width));
      for (let p = 4 * (y * width + box * factor); p < end; p += 4) {
        const alpha = rgba[p + 3];
        a += alpha;
        if (alpha === 255) {
          r += rgba[p]; // premultiplying by 255 changes nothing
          g += rgba[p + 1];
          b += rgba[p + 2];
        } else {
          r += muldiv255(rgba[p], alpha);
          g += muldiv255(rgba[p + 1], alpha);
          b += muldiv255(rgba[p + 2], alpha);
        }
      }
      const q = boxes + 4 * box;
      sums[q] += r;
      sums[q + 1] += g;
      sums[q + 2] += b;
      sums[q + 3] += a;
    }
  }
  const out = new Uint8ClampedArray(outWidth * outHeight * 4);
  for (let y = 0; y < outHeight; y++) {
    const boxHeight = Math.min(factor, height - y * factor); // partial boxes at the bottom and right edge
    for (let x = 0; x < outWidth; x++) {
      const count = boxHeight * Math.min(factor, width - x * factor);
      // Pillow's division: a 32-bit fixed-point reciprocal, computed in single precision, then >> 24.
      const multiplier = Math.trunc(f32(4294967296 / (256 * count)));
      const q = 4 * (y * outWidth + x);
      for (let c = 0; c < 4; c++) {
        out[q + c] = Math.floor(((sums[q + c] + (count >> 1)) * multiplier) / 16777216);
      }
      const alpha = out[q + 3];
      if (alpha !== 0 && alpha !== 255) {
        for (let c = 0; c < 3; c++) out[q + c] = Math.min(255, Math.floor((255 * out[q + c]) / alpha));
      }
    }
  }
  return { rgba: out, width: outWidth, height: outHeight };
}

// Step P1, grayscale in [0, 1] (vae.images.to_grayscale). An opaque picture: Pillow's convert("L"), / 255.
// One with any transparency: the float weights, flattened onto the background the strokes stand out from.
// numpy's matmul sums the weighted channels as the BLAS kernel it calls does; here as OpenBLAS's on a CPU
// with FMA: fma(b, B, fma(r, R, g * G)) in float32 (each fma emulated in double, which rounds differently
// only in a tie; another CPU's kernel may differ by an ulp, which tests/test_photo_parity.py allows).
const [R, G, B] = [f32(0.299), f32(0.587), f32(0.114)];

export function grayFromRGBA(rgba, width, height) {
  const n = width * height;
  const gray = new Float32Array(n);
  let transparent = false;
  for (let p = 0; p < n && !transparent; p++) transparent = rgba[4 * p + 3] < 255;
  if (!transparent) {
    for (let p = 0; p < n; p++) {
      gray[p] = ((rgba[4 * p] * 19595 + rgba[4 * p + 1] * 38470 + rgba[4 * p + 2] * 7471 + 0x8000) >> 16) / 255;
    }
    return { gray, transparent };
  }
  const alpha = new Float32Array(n);
  const inked = new Float32Array(n); // the colour times alpha
  for (let p = 0; p < n; p++) {
    const [r, g, b] = [f32(rgba[4 * p] / 255), f32(rgba[4 * p + 1] / 255), f32(rgba[4 * p + 2] / 255)];
    alpha[p] = rgba[4 * p + 3] / 255;
    inked[p] = f32(b * B + f32(r * R + f32(g * G))) * alpha[p];
  }
  const ink = f32(pairwiseSum(inked, 0, n, f32) / Math.max(pairwiseSum(alpha, 0, n, f32), 1e-6));
  const background = ink < 0.5 ? 1 : 0;
  for (let p = 0; p < n; p++) gray[p] = inked[p] + background * f32(1 - alpha[p]);
  return { gray, transparent };
}

// numpy's sum: pairwise, eight accumulators per block of at most 128 values, rounding each addition to
// float32 (round = Math.fround) or not (round = the identity: float64).
function pairwiseSum(values, start, n, round) {
  if (n < 8) {
    let sum = 0;
    for (let i = 0; i < n; i++) sum = round(sum + values[start + i]);
    return sum;
  }
  if (n <= 128) {
    const r = Array.from(values.slice(start, start + 8));
    let i = 8;
    for (; i < n - (n % 8); i += 8) for (let j = 0; j < 8; j++) r[j] = round(r[j] + values[start + i + j]);
    let sum = round(round(round(r[0] + r[1]) + round(r[2] + r[3])) + round(round(r[4] + r[5]) + round(r[6] + r[7])));
    for (; i < n; i++) sum = round(sum + values[start + i]);
    return sum;
  }
  const half = (n >> 1) - ((n >> 1) % 8);
  return round(pairwiseSum(values, start, half, round) + pairwiseSum(values, start + half, n - half, round));
}

// scipy.ndimage's mode "reflect" (d c b a | a b c d | d c b a), repeated for reaches past the line.
function reflect(index, length) {
  const period = 2 * length;
  const m = ((index % period) + period) % period;
  return m < length ? m : period - 1 - m;
}

// A row-major picture's transpose: its columns become rows, so every pass below reads memory in order.
function transpose(pixels, width, height) {
  const out = new Float32Array(pixels.length);
  for (let y0 = 0; y0 < height; y0 += 32) {
    for (let x0 = 0; x0 < width; x0 += 32) {
      for (let y = y0; y < Math.min(y0 + 32, height); y++) {
        for (let x = x0; x < Math.min(x0 + 32, width); x++) out[x * height + y] = pixels[y * width + x];
      }
    }
  }
  return out;
}

// scipy's maximum_filter1d along every row: output i is the maximum of input [i - before, i - before + size),
// reflected at the ends. O(1) a pixel whatever the size (van Herk / Gil-Werman: a window's maximum is that of
// the end of one block of `size` and the start of the next). The minimum is the maximum of the negated picture.
function rowMaxima(pixels, width, height, size, before) {
  const extended = width + size - 1;
  const index = Int32Array.from({ length: extended }, (_, k) => reflect(k - before, width));
  const [line, fromStart, toEnd] = [0, 1, 2].map(() => new Float32Array(extended));
  const out = new Float32Array(pixels.length);
  for (let row = 0; row < height * width; row += width) {
    for (let k = 0; k < extended; k++) line[k] = pixels[row + index[k]];
    for (let block = 0; block < extended; block += size) {
      const last = Math.min(block + size, extended) - 1;
      let largest = -Infinity;
      for (let k = block; k <= last; k++) fromStart[k] = largest = line[k] > largest ? line[k] : largest;
      largest = -Infinity;
      for (let k = last; k >= block; k--) toEnd[k] = largest = line[k] > largest ? line[k] : largest;
    }
    for (let i = 0; i < width; i++) {
      const end = toEnd[i];
      const start = fromStart[i + size - 1];
      out[row + i] = end > start ? end : start;
    }
  }
  return out;
}

// scipy.ndimage.grey_dilation / grey_erosion with a size x size square, separable: the rows, then the columns
// (the order cannot matter to a maximum). For an even size the two are not centred alike: erosion reaches
// size / 2 pixels back, dilation size / 2 - 1 (scipy shifts a dilation's even footprint by one).
function greyMorphology(pixels, width, height, size, dilate) {
  const before = (size >> 1) - (dilate && size % 2 === 0 ? 1 : 0);
  const negate = (array) => {
    if (!dilate) for (let p = 0; p < array.length; p++) array[p] = -array[p];
    return array;
  };
  const across = rowMaxima(negate(new Float32Array(pixels)), width, height, size, before);
  const down = rowMaxima(transpose(across, width, height), height, width, size, before);
  return negate(transpose(down, height, width));
}

// scipy.ndimage.gaussian_filter (truncate 4.0, mode "reflect") of a float32 picture: axis 0, then axis 1,
// each pass summing in doubles (the outermost taps first, as scipy's symmetric kernel does) and storing float32.
function gaussianFilter(pixels, width, height, sigma) {
  const radius = Math.trunc(4.0 * sigma + 0.5);
  const phi = Array.from({ length: 2 * radius + 1 }, (_, k) => Math.exp((-0.5 / (sigma * sigma)) * (k - radius) ** 2));
  const total = pairwiseSum(phi, 0, phi.length, (sum) => sum);
  const weights = phi.map((value) => value / total).slice(radius); // weights[l]: the tap l pixels away
  const down = new Float32Array(pixels.length);
  const sums = new Float64Array(width); // axis 0: a whole row of sums at a time, reading rows in order
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) sums[x] = pixels[y * width + x] * weights[0];
    for (let l = radius; l >= 1; l--) {
      const [above, below] = [reflect(y - l, height) * width, reflect(y + l, height) * width];
      for (let x = 0; x < width; x++) sums[x] += (pixels[above + x] + pixels[below + x]) * weights[l];
    }
    down.set(sums, y * width);
  }
  const out = new Float32Array(pixels.length);
  const index = Int32Array.from({ length: width + 2 * radius }, (_, k) => reflect(k - radius, width));
  const line = new Float64Array(width + 2 * radius);
  for (let row = 0; row < height * width; row += width) {
    for (let k = 0; k < line.length; k++) line[k] = down[row + index[k]];
    for (let i = 0; i < width; i++) {
      const centre = i + radius;
      let sum = line[centre] * weights[0];
      for (let l = radius; l >= 1; l--) sum += (line[centre - l] + line[centre + l]) * weights[l];
      out[row + i] = sum;
    }
  }
  return out;
}

// Python's round(): halves to even.
function roundHalfEven(x) {
  const floor = Math.floor(x);
  const rest = x - floor;
  return rest > 0.5 || (rest === 0.5 && floor % 2 !== 0) ? floor + 1 : floor;
}

function border(pixels, width, height) {
  const values = [];
  for (let x = 0; x < width; x++) values.push(pixels[x]);
  for (let x = 0; x < width; x++) values.push(pixels[(height - 1) * width + x]);
  for (let y = 0; y < height; y++) values.push(pixels[y * width]);
  for (let y = 0; y < height; y++) values.push(pixels[y * width + width - 1]);
  return Float32Array.from(values);
}

// Steps P2-P4 (vae.images.ink_map): grayscale (Float32Array in [0, 1]) -> float32 ink, 0 on the paper.
// photo: vae.images.PHOTO.to_json(); rules: vae.images.RULES.to_json() (P4 uses its ink_threshold and min_peak).
export function inkMap(gray, width, height, photo, rules) {
  const sorted = border(gray, width, height).sort();
  const middle = sorted.length >> 1; // the border has an even count: numpy's median is the middle two's mean
  const paper = f32(sorted[middle - 1] + sorted[middle]) / 2;
  const light = paper > 0.5;
  const longer = Math.max(width, height);
  const window = Math.max(3, roundHalfEven(photo.flatten_window * longer));
  // A grey closing (light paper) is a dilation then an erosion; an opening the other way round.
  const first = greyMorphology(gray, width, height, window, light);
  const estimate = greyMorphology(first, width, height, window, !light);
  const edge = border(estimate, width, height);
  const uneven = f32(Math.max(...edge) - Math.min(...edge)) > photo.uneven_paper;
  const floor = f32(1e-3);
  const ink = new Float32Array(gray.length);
  for (let p = 0; p < ink.length; p++) {
    let value;
    if (!uneven) value = light ? paper - gray[p] : gray[p] - paper;
    else if (light) value = 1 - f32(gray[p] / Math.max(estimate[p], floor)); // reflected light: a shadow divides
    else value = gray[p] - estimate[p];
    ink[p] = Math.max(value, 0); // the store rounds to float32, as each numpy operation does
  }
  const sigma = photo.thin_line_blur * longer;
  if (sigma >= 0.5) {
    // P4: what averages away under the blur is a ruled line or a hair; unless nothing else is left.
    const blurred = gaussianFilter(ink, width, height, sigma);
    let peak = 0;
    for (const value of blurred) if (value > peak) peak = value;
    const threshold = f32(f32(rules.ink_threshold) * peak);
    let kept = 0;
    for (let p = 0; p < ink.length; p++) if (!(blurred[p] < threshold) && ink[p] > kept) kept = ink[p];
    // numpy compares a float32 with a Python float in float32.
    if (kept >= f32(rules.min_peak)) for (let p = 0; p < ink.length; p++) if (blurred[p] < threshold) ink[p] = 0;
  }
  return ink;
}

// An upload, decoded by the browser -> { digit: Float32Array(frame * frame) or null (no digit found),
// notes: message keys for the user, picture: the shrunk grayscale picture, to show on the pad }.
export function digitFromPicture(rgba, width, height, rules, photo, scratch = {}) {
  const small = shrinkRGBA(rgba, width, height, photo.work_side);
  const { gray, transparent } = grayFromRGBA(small.rgba, small.width, small.height);
  const ink = inkMap(gray, small.width, small.height, photo, rules);
  return {
    digit: preprocess(ink, small.width, small.height, rules, scratch),
    notes: transparent ? ["images.transparent"] : [],
    picture: { gray, width: small.width, height: small.height },
  };
}

// A browser compiles a function for speed only after it has run a while: the first picture a student opens
// would take several times as long as the next (tests/stress/load_sessions.py prints the pad's steps). The
// pad runs this while it waits for nothing: a few small made-up photos (a stroke on paper lit unevenly, so
// both lighting branches and the blur run), whose results are thrown away.
// stats.warmUpMs: set to the time it took.
export function warmUp(rules, photo, stats = {}, times = 3) {
  const started = performance.now();
  const side = 120;
  const rgba = new Uint8ClampedArray(side * side * 4);
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const stroke = Math.abs(x - side / 2) < 6 && y > side / 5 && y < (4 * side) / 5;
      const value = stroke ? 30 : 235 - (x + y) / 4;
      rgba.fill(value, 4 * (y * side + x), 4 * (y * side + x) + 3);
      rgba[4 * (y * side + x) + 3] = 255;
    }
  }
  for (let i = 0; i < times; i++) digitFromPicture(rgba, side, side, rules, photo);
  stats.warmUpMs = performance.now() - started;
}
