// The latent plane behind the latent pad and the drawing pad: axes, a grid at whole numbers and
// the test set's codes, faint and coloured by digit; drawn once per network and extent, then
// copied onto the visible canvas each frame. And what both pads draw on it or beside it: a code
// as a star with its 1-sigma ellipse, and grey pictures (28x28s, an opened photo) as pixels.

export const DIGIT_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

// Latent value -> CSS pixels from the plane's left (or bottom) edge, for a plane of `size` over +/-extent.
export const planePixel = (value, extent, size) => ((value + extent) / (2 * extent)) * size;

// An offscreen canvas (size x size CSS pixels at the screen's pixel ratio) with the axes and the points.
// color: the page's text colour (light or dark theme); points: Float32Array (z1, z2, ...), labels: Uint8Array.
export function planeBackground({ size, extent, color, points, labels }) {
  const ratio = globalThis.devicePixelRatio || 1;
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = Math.round(size * ratio);
  const context = canvas.getContext("2d");
  context.setTransform(ratio, 0, 0, ratio, 0, 0);
  const at = (value) => planePixel(value, extent, size);
  context.strokeStyle = color;
  context.fillStyle = color;
  context.font = `${Math.max(13, Math.round(size / 16))}px sans-serif`; // readable on a projector
  context.globalAlpha = 0.15;
  for (let tick = Math.ceil(-extent); tick <= extent; tick++) {
    context.beginPath();
    context.moveTo(at(tick), 0);
    context.lineTo(at(tick), size);
    context.moveTo(0, size - at(tick));
    context.lineTo(size, size - at(tick));
    context.stroke();
  }
  context.globalAlpha = 0.5;
  context.beginPath();
  context.moveTo(at(0), 0);
  context.lineTo(at(0), size);
  context.moveTo(0, size - at(0));
  context.lineTo(size, size - at(0));
  context.stroke();
  context.strokeRect(0.5, 0.5, size - 1, size - 1);
  const line = Math.max(13, Math.round(size / 16));
  context.fillText("z₂", at(0) + 4, line);
  context.fillText(`−${extent}`, 3, size - 4);
  context.textAlign = "right";
  context.fillText("z₁", size - 4, size - at(0) + line);
  context.fillText(`${extent}`, size - 3, size - 4);
  context.globalAlpha = 0.45;
  const dot = size >= 360 ? 3 : 2;
  for (let n = 0; n < labels.length; n++) {
    context.fillStyle = DIGIT_COLORS[labels[n] % 10];
    context.fillRect(at(points[2 * n]) - dot / 2, size - at(points[2 * n + 1]) - dot / 2, dot, dot);
  }
  return canvas;
}

// A code {mean, logVar} as the map draws your digit: a gold star, its 1-sigma ellipse dotted in `color`.
// context: a plane's canvas in CSS pixels (size x size over +/-extent).
export function drawCode(context, { mean, logVar }, { size, extent, color }) {
  const at = (value) => planePixel(value, extent, size);
  const [x, y] = [at(mean[0]), size - at(mean[1])];
  const perUnit = size / (2 * extent);
  context.beginPath();
  context.ellipse(x, y, perUnit * Math.exp(logVar[0] / 2), perUnit * Math.exp(logVar[1] / 2), 0, 0, 2 * Math.PI);
  Object.assign(context, { lineWidth: 1.5, strokeStyle: color });
  context.setLineDash([3, 3]);
  context.stroke();
  context.setLineDash([]);
  context.beginPath();
  for (let k = 0; k < 10; k++) {
    const radius = k % 2 === 0 ? 9 : 4;
    const angle = -Math.PI / 2 + (k * Math.PI) / 5;
    context.lineTo(x + radius * Math.cos(angle), y + radius * Math.sin(angle));
  }
  context.closePath();
  Object.assign(context, { fillStyle: "#ffc107", strokeStyle: "#000", lineWidth: 1 });
  context.fill();
  context.stroke();
}

// Grey values in [0, 1] (a 28x28, a picture) into an ImageData of the same size: white on black, opaque.
export function grayPixels(values, into) {
  for (let p = 0; p < values.length; p++) {
    into.data[4 * p] = into.data[4 * p + 1] = into.data[4 * p + 2] = Math.round(255 * values[p]);
    into.data[4 * p + 3] = 255;
  }
  return into;
}
