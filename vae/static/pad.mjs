// The latent pad: drag a point over the 2-D latent plane and the digit is redrawn while
// the mouse moves. Streamlit sends a slider value only on release, so continuous feedback
// needs the decoder here, in the page: the Dense weights arrive once as bytes (see
// vae/pad.py for the layout) and the forward pass is a few Float32Array loops,
// ~0.5 MFLOP per frame for the default 2 -> 256 -> 512 -> 784 decoder.
//
// One st.components.v2 component, mounted in two roles by vae/pad.py:
//   data = Uint8Array    -> the packed decoder; unpacked and filed under its digest
//   data = {digest, ...} -> the pad itself, drawn once the decoder with that digest is here
// The two share this module, whose map of decoders lives as long as the page: so Python
// sends the ~2 MB of weights once per session and model, not with every move of the point.

// ---------------------------------------------------------------- the decoder (also run by node in tests/test_pad.py)

function readHeader(bytes) {
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true);
  return { headerLength, header: JSON.parse(new TextDecoder().decode(bytes.subarray(4, 4 + headerLength))) };
}

export function unpackDecoder(bytes) {
  const { headerLength, header } = readHeader(bytes);
  // Protobuf hands us a view into a larger message: copy so the floats are 4-byte aligned.
  const buffer = bytes.slice().buffer;
  let offset = 4 + headerLength;
  const take = (n) => {
    const array = new Float32Array(buffer, offset, n);
    offset += 4 * n;
    return array;
  };
  const layers = header.layers.map(({ inputs, outputs, activation }) => ({
    inputs,
    outputs,
    activation,
    kernel: take(inputs * outputs), // Keras layout: (inputs, outputs), row-major
    bias: take(outputs),
  }));
  const points = take(2 * header.points);
  const labels = new Uint8Array(buffer, offset, header.points);
  return { digest: header.digest, latentDim: header.latent_dim, layers, points, labels };
}

// Returns decode(z) -> Float32Array(784) of pixel probabilities. The returned array is
// reused by the next call: copy it if you keep it.
export function makeDecoder({ layers }) {
  const outputs = layers.map((layer) => new Float32Array(layer.outputs));
  return function decode(z) {
    let x = z;
    layers.forEach(({ inputs, outputs: width, activation, kernel, bias }, l) => {
      const y = outputs[l];
      y.set(bias);
      for (let i = 0; i < inputs; i++) {
        const xi = x[i];
        if (xi === 0) continue; // after a relu about half the inputs are exactly zero
        const row = i * width;
        for (let j = 0; j < width; j++) y[j] += xi * kernel[row + j];
      }
      if (activation === "relu") for (let j = 0; j < width; j++) y[j] = y[j] > 0 ? y[j] : 0;
      else if (activation === "sigmoid") for (let j = 0; j < width; j++) y[j] = 1 / (1 + Math.exp(-y[j]));
      x = y;
    });
    return x;
  };
}

// ---------------------------------------------------------------- decoders arriving, pads waiting for them

const decoders = new Map(); // digest -> {promise, resolve, arrived}

function decoderEntry(digest) {
  if (!decoders.has(digest)) {
    let resolve;
    const promise = new Promise((r) => (resolve = r));
    decoders.set(digest, { promise, resolve, arrived: false });
  }
  return decoders.get(digest);
}

// ---------------------------------------------------------------- the pad

const IMAGE_SIZE = 28;
const DIGIT_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

// Frames decoded in this page, read by benchmarks/drag_fps.py: the page's own clock.
// decodeMs: the forward pass; frameMs: decode + drawing both canvases (last 1,000 frames each).
// drawnAt: when each frame was on the canvas; updates/updatedAt: reruns the pad was sent (the server's
// echo of a move). Each list keeps its last 1,000 entries.
const stats = (globalThis.__padStats = {
  frames: 0, t0: null, t1: null, decodeMs: [], frameMs: [], drawnAt: [], updates: 0, updatedAt: [],
});
const remember = (list, value) => {
  list.push(value);
  if (list.length > 1000) list.shift();
};

function createPad(root) {
  const wrapper = document.createElement("div");
  wrapper.className = "pad";
  wrapper.innerHTML = `
    <div class="sliders">
      <label>z1 <input type="range" class="z1" aria-label="z1"><output></output></label>
      <label>z2 <input type="range" class="z2" aria-label="z2"><output></output></label>
    </div>
    <div class="digit-column">
      <canvas class="digit" role="img" aria-label="decoded digit"></canvas>
      <div class="readout">loading decoder…</div>
    </div>
    <canvas class="plane" tabindex="0" aria-label="latent plane: drag the point, or use the arrow keys"></canvas>`;
  root.appendChild(wrapper);
  const plane = wrapper.querySelector(".plane");
  const digitCanvas = wrapper.querySelector(".digit");
  const readout = wrapper.querySelector(".readout");
  const sliders = [wrapper.querySelector(".z1"), wrapper.querySelector(".z2")];
  const small = document.createElement("canvas"); // the 28x28 image, scaled up by drawImage
  small.width = small.height = IMAGE_SIZE;
  const smallContext = small.getContext("2d");
  const pixels = smallContext.createImageData(IMAGE_SIZE, IMAGE_SIZE);

  const pad = { z: [0, 0], extent: 3, step: 0.1, size: 280, decoder: null, decode: null, background: null, digest: null };
  let move = null; // the server's count of the moves it made itself (map clicks, uploads, a new run)
  let dragging = false;
  let framePending = false;

  const toPixel = (value) => ((value + pad.extent) / (2 * pad.extent)) * pad.size;
  const toLatent = (pixel) => (pixel / pad.size) * 2 * pad.extent - pad.extent;
  const clamp = (value) => Math.max(-pad.extent, Math.min(pad.extent, value));

  // The range with every rerun (it can change with the run); the values with every frame.
  function setSliderRange() {
    for (const slider of sliders) Object.assign(slider, { min: -pad.extent, max: pad.extent, step: pad.step });
  }

  function setSliderValues() {
    sliders.forEach((slider, i) => {
      slider.value = pad.z[i];
      slider.nextElementSibling.textContent = pad.z[i].toFixed(2);
    });
  }

  function resize() {
    const ratio = window.devicePixelRatio || 1;
    for (const canvas of [plane, digitCanvas]) {
      canvas.style.width = canvas.style.height = `${pad.size}px`;
      canvas.width = canvas.height = Math.round(pad.size * ratio);
      canvas.getContext("2d").setTransform(ratio, 0, 0, ratio, 0, 0);
    }
  }

  // Axes, grid and the test set's latents: drawn once per decoder/extent, then copied each frame.
  function drawBackground() {
    const ratio = window.devicePixelRatio || 1;
    const canvas = document.createElement("canvas");
    canvas.width = canvas.height = Math.round(pad.size * ratio);
    const context = canvas.getContext("2d");
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    const text = getComputedStyle(wrapper).color || "#888";
    context.strokeStyle = text;
    context.fillStyle = text;
    context.font = "10px sans-serif";
    context.globalAlpha = 0.15;
    for (let tick = Math.ceil(-pad.extent); tick <= pad.extent; tick++) {
      context.beginPath();
      context.moveTo(toPixel(tick), 0);
      context.lineTo(toPixel(tick), pad.size);
      context.moveTo(0, pad.size - toPixel(tick));
      context.lineTo(pad.size, pad.size - toPixel(tick));
      context.stroke();
    }
    context.globalAlpha = 0.5;
    context.beginPath();
    context.moveTo(toPixel(0), 0);
    context.lineTo(toPixel(0), pad.size);
    context.moveTo(0, pad.size - toPixel(0));
    context.lineTo(pad.size, pad.size - toPixel(0));
    context.stroke();
    context.strokeRect(0.5, 0.5, pad.size - 1, pad.size - 1);
    context.fillText("z₂", toPixel(0) + 4, 12);
    context.fillText(`−${pad.extent}`, 3, pad.size - 4);
    context.textAlign = "right";
    context.fillText("z₁", pad.size - 4, pad.size - toPixel(0) + 12);
    context.fillText(`${pad.extent}`, pad.size - 3, pad.size - 4);
    const { points, labels } = pad.decoder;
    context.globalAlpha = 0.35;
    for (let n = 0; n < labels.length; n++) {
      context.fillStyle = DIGIT_COLORS[labels[n] % 10];
      context.fillRect(toPixel(points[2 * n]) - 1, pad.size - toPixel(points[2 * n + 1]) - 1, 2, 2);
    }
    pad.background = canvas;
  }

  function draw() {
    framePending = false;
    if (!pad.decode) return;
    const started = performance.now();
    const image = pad.decode(pad.z);
    const decodeMs = performance.now() - started;

    for (let p = 0; p < IMAGE_SIZE * IMAGE_SIZE; p++) {
      const value = Math.round(255 * image[p]);
      pixels.data[4 * p] = pixels.data[4 * p + 1] = pixels.data[4 * p + 2] = value;
      pixels.data[4 * p + 3] = 255;
    }
    smallContext.putImageData(pixels, 0, 0);
    const digitContext = digitCanvas.getContext("2d");
    digitContext.imageSmoothingEnabled = false; // crisp 28x28 pixels, no blur
    digitContext.drawImage(small, 0, 0, pad.size, pad.size);

    const context = plane.getContext("2d");
    context.clearRect(0, 0, pad.size, pad.size);
    context.drawImage(pad.background, 0, 0, pad.size, pad.size);
    const x = toPixel(clamp(pad.z[0]));
    const y = pad.size - toPixel(clamp(pad.z[1]));
    context.beginPath();
    context.arc(x, y, 7, 0, 2 * Math.PI);
    context.fillStyle = "#ff4b4b";
    context.fill();
    context.lineWidth = 2;
    context.strokeStyle = "#ffffff";
    context.stroke();
    readout.textContent = `decoder(z = (${pad.z[0].toFixed(2)}, ${pad.z[1].toFixed(2)}))`;
    setSliderValues();

    const now = performance.now();
    stats.frames += 1;
    stats.t0 ??= now;
    stats.t1 = now;
    remember(stats.decodeMs, decodeMs);
    remember(stats.frameMs, now - started);
    remember(stats.drawnAt, now);
  }

  // Many pointer events can arrive between two screen refreshes: decode once per refresh.
  function requestDraw() {
    if (framePending) return;
    framePending = true;
    requestAnimationFrame(draw);
  }

  function moveTo(clientX, clientY) {
    const box = plane.getBoundingClientRect();
    pad.z = [clamp(toLatent(clientX - box.left)), clamp(toLatent(box.bottom - clientY))];
    requestDraw();
  }

  // Only the released point goes to Python: each setStateValue costs a script rerun.
  const release = () => pad.setStateValue("point", [pad.z[0], pad.z[1]]);

  // The sliders: each step redraws here at once; the value goes to Python on "change" (every
  // arrow-key step, or the end of a drag), so the server never sits between a key and the digit.
  sliders.forEach((slider, i) => {
    slider.addEventListener("input", () => {
      pad.z[i] = Number(slider.value);
      requestDraw();
    });
    slider.addEventListener("change", release);
  });

  plane.addEventListener("pointerdown", (event) => {
    dragging = true;
    plane.setPointerCapture(event.pointerId);
    moveTo(event.clientX, event.clientY);
  });
  plane.addEventListener("pointermove", (event) => {
    if (dragging) moveTo(event.clientX, event.clientY);
  });
  const endDrag = () => {
    if (!dragging) return;
    dragging = false;
    release();
  };
  plane.addEventListener("pointerup", endDrag);
  plane.addEventListener("pointercancel", endDrag);
  plane.addEventListener("keydown", (event) => {
    const step = (event.shiftKey ? 0.25 : 0.05) * pad.extent;
    const moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, step], ArrowDown: [0, -step] };
    if (!(event.key in moves)) return;
    event.preventDefault();
    pad.z = [clamp(pad.z[0] + moves[event.key][0]), clamp(pad.z[1] + moves[event.key][1])];
    requestDraw();
  });
  plane.addEventListener("keyup", (event) => {
    if (event.key.startsWith("Arrow")) release();
  });

  // Called on every Streamlit rerun with the server's view: the point, the extent, the model.
  // z is applied only when the server moved the point itself (its move count changed): a rerun
  // caused by our own release would otherwise pull the point back to a value it has since left.
  pad.update = ({ z, extent, step, size, digest, moves }) => {
    const resized = size !== pad.size || extent !== pad.extent;
    Object.assign(pad, { extent, size, step: step ?? pad.step });
    if (moves !== move && !dragging) pad.z = [z[0], z[1]];
    move = moves;
    setSliderRange(); // range and value right even before the decoder has arrived
    setSliderValues();
    stats.updates += 1;
    remember(stats.updatedAt, performance.now());
    if (resized) resize();
    if (digest !== pad.digest) {
      pad.digest = digest;
      pad.decode = null;
      // Python sends a decoder once per session; should it have been lost on the way, ask again.
      const entry = decoderEntry(digest);
      let tries = 0;
      const asking = setInterval(() => {
        if (entry.arrived || pad.digest !== digest || ++tries > 5) clearInterval(asking);
        else pad.setTriggerValue("missing", digest);
      }, 2000);
      entry.promise.then((decoder) => {
        if (pad.digest !== digest) return; // another model was picked meanwhile
        pad.decoder = decoder;
        pad.decode = makeDecoder(decoder);
        drawBackground();
        requestDraw();
      });
    } else if (resized && pad.decoder) {
      drawBackground();
    }
    requestDraw();
  };
  resize();
  return pad;
}

export default function (component) {
  const { data, parentElement, setStateValue, setTriggerValue } = component;
  if (data instanceof Uint8Array) {
    const entry = decoderEntry(readHeader(data).header.digest);
    if (!entry.arrived) entry.resolve(unpackDecoder(data)); // every rerun brings the same bytes again
    entry.arrived = true;
    return;
  }
  // Streamlit calls this again on every rerun with the same parentElement: build once, then update.
  parentElement.pad ??= createPad(parentElement);
  Object.assign(parentElement.pad, { setStateValue, setTriggerValue });
  parentElement.pad.update(data);
}
