// A drawing becomes an MNIST-style 28x28 and its code, in the page, on every stroke update: the
// second implementation of the specification in vae/images.py's docstring (steps 1-7; its numbers
// arrive from Python as `rules`), and the encoder. Pure functions of typed arrays: node runs them in
// tests/test_preprocess_parity.py against vae.preprocess_digit and model.encode.
//
// Steps P1-P4 (a photo's shrink, grayscale, lighting and thin lines) are photo.mjs's: a drawing on a
// clean canvas needs none.
// Ink values are float32 as in Python (a Float32Array), and every step computes in doubles, so the
// two sides make the same comparisons.

import { makeForward } from "./network.mjs";

// A canvas's RGBA bytes (strokes drawn opaque on a transparent canvas) -> float32 ink, alpha / 255.
export function inkFromRGBA(rgba, ink = new Float32Array(rgba.length / 4)) {
  for (let p = 0; p < ink.length; p++) ink[p] = rgba[4 * p + 3] / 255;
  return ink;
}

// Steps 2-3: label the 8-connected ink pixels in raster order (as scipy.ndimage.label numbers them)
// and return the parts kept: a Uint8Array over labels, 1 = kept, and the kept pixels' bounding box.
function keptParts(ink, width, height, threshold, rules, scratch) {
  if (scratch.labels?.length !== width * height) {
    scratch.labels = new Int32Array(width * height);
    scratch.stack = new Int32Array(width * height);
  }
  const { labels, stack } = scratch;
  labels.fill(0);
  const parts = []; // {count, top, bottom, left, right}
  for (let start = 0; start < ink.length; start++) {
    if (labels[start] !== 0 || !(ink[start] >= threshold)) continue;
    const label = parts.length + 1;
    const part = { count: 0, top: height, bottom: -1, left: width, right: -1 };
    let depth = 0;
    stack[depth++] = start;
    labels[start] = label;
    while (depth > 0) {
      const p = stack[--depth];
      const y = (p / width) | 0;
      const x = p - y * width;
      part.count++;
      if (y < part.top) part.top = y;
      if (y > part.bottom) part.bottom = y;
      if (x < part.left) part.left = x;
      if (x > part.right) part.right = x;
      for (let dy = -1; dy <= 1; dy++) {
        const ny = y + dy;
        if (ny < 0 || ny >= height) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const nx = x + dx;
          const q = ny * width + nx;
          if (nx < 0 || nx >= width || labels[q] !== 0 || !(ink[q] >= threshold)) continue;
          labels[q] = label;
          stack[depth++] = q;
        }
      }
    }
    parts.push(part);
  }
  let main = 0;
  for (let c = 1; c < parts.length; c++) if (parts[c].count > parts[main].count) main = c; // ties: the first
  const m = parts[main];
  const reach = rules.near_share * Math.max(m.bottom - m.top + 1, m.right - m.left + 1);
  const keep = new Uint8Array(parts.length + 1);
  const box = { top: height, bottom: -1, left: width, right: -1 };
  parts.forEach((part, c) => {
    const inside = part.top >= m.top - reach && part.bottom <= m.bottom + reach; // the main part's grown box
    const near = inside && part.left >= m.left - reach && part.right <= m.right + reach;
    if (c !== main && !(part.count >= rules.part_share * m.count && near)) return;
    keep[c + 1] = 1;
    box.top = Math.min(box.top, part.top);
    box.bottom = Math.max(box.bottom, part.bottom);
    box.left = Math.min(box.left, part.left);
    box.right = Math.max(box.right, part.right);
  });
  return { labels, keep, box };
}

// Step 5's weights along one axis: for each of `target` output pixels, the source pixels it
// covers and their shares (overlaps counted in units of 1/target source pixels: exact ratios).
function areaWeights(source, target) {
  const rows = [];
  for (let i = 0; i < target; i++) {
    const begin = i * source;
    const end = begin + source;
    const taps = [];
    for (let k = Math.floor(begin / target); k * target < end; k++) {
      const overlap = Math.min((k + 1) * target, end) - Math.max(k * target, begin);
      if (overlap > 0) taps.push([k, overlap / source]);
    }
    rows.push(taps);
  }
  return rows;
}

// Steps 1-7: ink (Float32Array, width x height, 0 = paper) -> Float32Array(frame * frame) in [0, 1],
// or null when there is no digit (nothing drawn). scratch: an object the caller keeps between calls,
// whose buffers are reused (a pad calls this every frame: no garbage to collect mid-stroke).
export function preprocess(ink, width, height, rules, scratch = {}) {
  let peak = 0;
  for (let p = 0; p < ink.length; p++) if (ink[p] > peak) peak = ink[p];
  if (!(peak >= rules.min_peak)) return null;
  const { labels, keep, box } = keptParts(ink, width, height, rules.ink_threshold * peak, rules, scratch);

  const cropHeight = box.bottom - box.top + 1;
  const cropWidth = box.right - box.left + 1;
  const longer = Math.max(cropHeight, cropWidth);
  const fit = (side) => Math.max(1, Math.floor((2 * side * rules.box + longer) / (2 * longer)));
  const [fittedHeight, fittedWidth] = [fit(cropHeight), fit(cropWidth)];

  // Rows first (fittedHeight x cropWidth), then columns, as Python's weights @ crop @ weights.T.
  const byRows = new Float64Array(fittedHeight * cropWidth);
  areaWeights(cropHeight, fittedHeight).forEach((taps, i) => {
    for (const [k, weight] of taps) {
      const row = (box.top + k) * width + box.left;
      for (let x = 0; x < cropWidth; x++) if (keep[labels[row + x]]) byRows[i * cropWidth + x] += weight * ink[row + x];
    }
  });
  const small = new Float64Array(fittedHeight * fittedWidth);
  const columnTaps = areaWeights(cropWidth, fittedWidth);
  for (let i = 0; i < fittedHeight; i++) {
    columnTaps.forEach((taps, j) => {
      let sum = 0;
      for (const [k, weight] of taps) sum += weight * byRows[i * cropWidth + k];
      small[i * fittedWidth + j] = sum;
    });
  }

  let largest = 0;
  for (const value of small) if (value > largest) largest = value;
  let total = 0;
  let rowMoment = 0;
  let columnMoment = 0;
  for (let i = 0; i < fittedHeight; i++) {
    for (let j = 0; j < fittedWidth; j++) {
      const value = (small[i * fittedWidth + j] /= largest);
      total += value;
      rowMoment += i * value;
      columnMoment += j * value;
    }
  }
  const offset = (moment, room) => {
    const centre = Math.floor((moment / total) * 1024 + 0.5) / 1024;
    return Math.min(Math.max(Math.floor(rules.frame / 2 - centre + 0.5), 0), room);
  };
  const top = offset(rowMoment, rules.frame - fittedHeight);
  const left = offset(columnMoment, rules.frame - fittedWidth);
  const digit = new Float32Array(rules.frame * rules.frame);
  for (let i = 0; i < fittedHeight; i++) {
    for (let j = 0; j < fittedWidth; j++) digit[(top + i) * rules.frame + left + j] = small[i * fittedWidth + j];
  }
  return digit;
}

// The encoder: 784 pixels -> {mean, logVar} (views of one reused array: copy them to keep them).
// Its two heads are packed as one linear layer, z_mean's outputs then z_log_var's (vae/packing.py).
export function makeEncoder(network) {
  const forward = makeForward(network);
  const latentDim = network.latentDim;
  return function encode(pixels) {
    const out = forward(pixels);
    return { mean: out.subarray(0, latentDim), logVar: out.subarray(latentDim, 2 * latentDim) };
  };
}
