// The latent pad: drag a point over the 2-D latent plane and the digit is redrawn while
// the mouse moves. Streamlit sends a slider value only on release, so continuous feedback
// needs the decoder here, in the page: the Dense weights arrive once as bytes (see
// vae/pad.py for the layout) and the forward pass is a few Float32Array loops,
// ~0.5 MFLOP per frame for the default 2 -> 256 -> 512 -> 784 decoder.
//
// One st.components.v2 component, mounted in two roles by vae/pad.py:
//   data = Uint8Array    -> the packed decoder; unpacked and filed under its digest (network.mjs)
//   data = {digest, ...} -> the pad itself, drawn once the decoder with that digest is here
// The map of networks lives as long as the page: so Python sends the ~2 MB of weights once per
// session and model, not with every move of the point.

import { awaitNetwork, makeDecoder, networkComponent } from "./network.mjs";
import { DIGIT_COLORS, grayPixels, planeBackground, planePixel } from "./plane.mjs";

export { makeDecoder, unpackNetwork as unpackDecoder } from "./network.mjs"; // for node (tests/test_pad.py)

// ---------------------------------------------------------------- the pad

const IMAGE_SIZE = 28;

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
      <canvas class="digit" role="img"></canvas>
      <div class="readout"></div>
    </div>
    <div class="plane-column">
      <canvas class="plane" tabindex="0"></canvas>
      <div class="legend">${DIGIT_COLORS.map((c, d) => `<span><i style="background:${c}"></i>${d}</span>`).join("")}</div>
    </div>`;
  root.appendChild(wrapper);
  const plane = wrapper.querySelector(".plane");
  const digitCanvas = wrapper.querySelector(".digit");
  const readout = wrapper.querySelector(".readout");
  const sliders = [wrapper.querySelector(".z1"), wrapper.querySelector(".z2")];
  const small = document.createElement("canvas"); // the 28x28 image, scaled up by drawImage
  small.width = small.height = IMAGE_SIZE;
  const smallContext = small.getContext("2d");
  const pixels = smallContext.createImageData(IMAGE_SIZE, IMAGE_SIZE);

  // requested: the side Python asked for in CSS pixels; 0 fits the screen (the presenter view): the digit
  // and the plane side by side, each up to 42 % of the window's height.
  const pad = { z: [0, 0], extent: 3, step: 0.1, size: 280, requested: 280, decoder: null, decode: null, background: null, digest: null };
  let move = null; // the server's count of the moves it made itself (map clicks, uploads, a new run)
  let dragging = false;
  let framePending = false;

  const toPixel = (value) => planePixel(value, pad.extent, pad.size);
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

  function fittedSize() {
    if (pad.requested > 0) return pad.requested;
    const gap = parseFloat(getComputedStyle(wrapper).columnGap) || 16;
    const width = (wrapper.parentElement?.clientWidth || window.innerWidth) - gap - 8;
    return Math.max(160, Math.floor(Math.min(0.42 * window.innerHeight, width / 2)));
  }

  function resize() {
    pad.size = fittedSize();
    for (const column of wrapper.querySelectorAll(".digit-column, .plane-column")) column.style.width = `${pad.size}px`;
    const ratio = window.devicePixelRatio || 1;
    for (const canvas of [plane, digitCanvas]) {
      canvas.style.width = canvas.style.height = `${pad.size}px`;
      canvas.width = canvas.height = Math.round(pad.size * ratio);
      canvas.getContext("2d").setTransform(ratio, 0, 0, ratio, 0, 0);
    }
  }

  function drawBackground() {
    const color = getComputedStyle(wrapper).color || "#888";
    const { points, labels } = pad.decoder;
    pad.background = planeBackground({ size: pad.size, extent: pad.extent, color, points, labels });
  }

  function draw() {
    framePending = false;
    if (!pad.decode) return;
    const started = performance.now();
    const image = pad.decode(pad.z);
    const decodeMs = performance.now() - started;

    smallContext.putImageData(grayPixels(image, pixels), 0, 0);
    const digitContext = digitCanvas.getContext("2d");
    digitContext.imageSmoothingEnabled = false; // crisp 28x28 pixels, no blur
    digitContext.drawImage(small, 0, 0, pad.size, pad.size);

    const context = plane.getContext("2d");
    context.clearRect(0, 0, pad.size, pad.size);
    context.drawImage(pad.background, 0, 0, pad.size, pad.size);
    const x = toPixel(clamp(pad.z[0]));
    const y = pad.size - toPixel(clamp(pad.z[1]));
    context.beginPath();
    // Black on a white ring: no digit has either colour, so the point never hides in a cluster.
    context.arc(x, y, Math.max(7, pad.size / 36), 0, 2 * Math.PI);
    context.fillStyle = "#000000";
    context.fill();
    context.lineWidth = 3;
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
  pad.update = ({ z, extent, step, size, digest, moves, texts }) => {
    const resized = size !== pad.requested || extent !== pad.extent;
    Object.assign(pad, { extent, requested: size, step: step ?? pad.step });
    if (texts) {
      digitCanvas.setAttribute("aria-label", texts.digit);
      plane.setAttribute("aria-label", texts.plane);
      if (!pad.decode) readout.textContent = texts.loading;
    }
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
      const askAgain = () => pad.digest === digest && pad.setTriggerValue("missing", digest);
      awaitNetwork(digest, askAgain).then((decoder) => {
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
  window.addEventListener("resize", () => {
    if (pad.requested > 0) return;
    resize();
    if (pad.decoder) drawBackground();
    requestDraw();
  });
  resize();
  return pad;
}

export default networkComponent(createPad);
