// The drawing pad: draw a digit with a mouse, a finger or a pen, and while the pen is down see the
// 28x28 the model sees, its code as a star with its 1-sigma ellipse on the latent plane, and the
// reconstruction decoded at the code. Everything between stroke and code runs here (digit.mjs,
// network.mjs): a server round trip per stroke update would be far slower than a frame. Python
// hears the 28x28 (784 numbers, never the canvas) when a stroke ends, on Undo and on Clear.
//
// A picture (Open an image, or dropped on the pad) is decoded and made MNIST-like here too (photo.mjs:
// its lighting flattened, specks dropped), shown on the pad and sent as a drawing is: the server never
// decodes an image, and in a hall where everyone opens one at once each student's star is on their pad
// without waiting for the server (tests/stress/load_sessions.py --moves 0).
//
// One st.components.v2 component, mounted in two roles by vae/drawpad.py:
//   data = Uint8Array    -> a packed network (the encoder or the decoder), filed under its digest
//   data = {encoder, decoder, rules, ...} -> the pad, which runs once both networks are here

import { inkFromRGBA, makeEncoder, preprocess } from "./digit.mjs";
import { digitFromPicture, warmUp } from "./photo.mjs";
import { fill, isAnimated, pictureCanvas, readPicture } from "./picture.mjs";
import { awaitNetwork, makeDecoder, networkComponent } from "./network.mjs";
import { drawCode, grayPixels, planeBackground } from "./plane.mjs";
import { labelPad, padView } from "./drawpad_view.mjs";

const IMAGE_SIZE = 28;
const VIEW_SIZE = 100; // the 28x28 and the reconstruction: beside a 280 px pad and plane in 704 px (a centred page)
// Soon, when the page has nothing else to do; a background tab may never be idle, hence the deadline.
const IDLE_DEADLINE_MS = 2000;
const whenIdle = (task) => (globalThis.requestIdleCallback ? requestIdleCallback(task, { timeout: IDLE_DEADLINE_MS }) : setTimeout(task, 0));

// Frames drawn in this page, read by benchmarks/stroke_latency.py (the page's own clock). Per frame:
// latencyMs from the first pointer event handled since the last frame to all three views redrawn;
// sinceEventMs the same from that event's timeStamp (when the browser received it); stageMs the steps.
// Each list keeps its last 2,000 entries. pictureShownAt: when the last picture opened was drawn with its
// code (performance.now(); tests/stress/load_sessions.py reads it), pictureMs: file chosen to that moment;
// ready: the networks are here (the pad lives in a shadow root, where a page script's querySelector cannot look);
// warmUpMs: how long photo.mjs's warm-up took, once it has run.
const stats = (globalThis.__drawpadStats = {
  frames: 0, latencyMs: [], sinceEventMs: [], stageMs: { paint: [], preprocess: [], encode: [], decode: [], views: [] }, sent: 0,
  pictureShownAt: null, pictureMs: [], pictureStageMs: { decode: [], preprocess: [], frame: [] }, ready: false, warmUpMs: null,
});
const remember = (list, value) => {
  list.push(value);
  if (list.length > 2000) list.shift();
};

function createPad(root) {
  const view = padView(root);
  const { wrapper, drawCanvas, seenCanvas, reconstructionCanvas, plane, readout, note, input } = view;

  const ink = document.createElement("canvas"); // what the model reads: strokes opaque on transparent
  const inkContext = ink.getContext("2d", { willReadFrequently: true });
  let inkValues = null;
  const scratch = {}; // preprocess's buffers, kept from frame to frame
  const small = document.createElement("canvas"); // a 28x28 image, scaled up by drawImage
  small.width = small.height = IMAGE_SIZE;
  const smallContext = small.getContext("2d");
  const pixels = smallContext.createImageData(IMAGE_SIZE, IMAGE_SIZE);

  const pad = { size: 280, extent: 3, inkSide: 0, pen: 0, rules: null, photo: null, limits: null, texts: {}, digests: null, encode: null, decode: null, decoder: null, background: null, color: "#888" };
  let strokes = []; // each a flat list of x, y in ink pixels
  let activePointer = null;
  let shown = null; // the 28x28 of a picture opened here, until the next stroke
  let picture = null; // that picture as a canvas, shown on the pad in place of strokes
  let openedAt = null; // performance.now() when that picture's file was chosen, until it is drawn
  let waiting = null; // a file opened before the networks arrived
  let framePending = false;
  let handledAt = null; // performance.now() and event.timeStamp of the first event since the last frame
  let eventAt = null;
  let code = null; // {mean, logVar} of what is shown, copied

  function resize() {
    const ratio = window.devicePixelRatio || 1;
    const sizes = [[drawCanvas, pad.size], [plane, pad.size], [seenCanvas, VIEW_SIZE], [reconstructionCanvas, VIEW_SIZE]];
    for (const [canvas, size] of sizes) {
      canvas.style.width = canvas.style.height = `${size}px`;
      canvas.width = canvas.height = Math.round(size * ratio);
    }
  }

  function paintStrokes(context, scale) {
    context.setTransform(scale, 0, 0, scale, 0, 0);
    context.clearRect(0, 0, pad.inkSide, pad.inkSide);
    if (picture !== null && context !== inkContext) { // the opened picture, fitted into the pad, grey as the model reads it
      const fit = Math.min(pad.inkSide / picture.width, pad.inkSide / picture.height);
      const [w, h] = [picture.width * fit, picture.height * fit];
      context.drawImage(picture, (pad.inkSide - w) / 2, (pad.inkSide - h) / 2, w, h);
    }
    Object.assign(context, { lineCap: "round", lineJoin: "round", lineWidth: pad.pen, strokeStyle: "#fff", fillStyle: "#fff" });
    for (const stroke of strokes) {
      context.beginPath();
      if (stroke.length === 2) {
        context.arc(stroke[0], stroke[1], pad.pen / 2, 0, 2 * Math.PI); // a tap: a round dot
        context.fill();
        continue;
      }
      context.moveTo(stroke[0], stroke[1]);
      for (let i = 2; i < stroke.length; i += 2) context.lineTo(stroke[i], stroke[i + 1]);
      context.stroke();
    }
  }

  function showImage(canvas, image) {
    const context = canvas.getContext("2d");
    context.setTransform(1, 0, 0, 1, 0, 0);
    if (image === null) {
      context.clearRect(0, 0, canvas.width, canvas.height);
      return;
    }
    smallContext.putImageData(grayPixels(image, pixels), 0, 0);
    context.imageSmoothingEnabled = false; // crisp 28x28 pixels, no blur
    context.drawImage(small, 0, 0, canvas.width, canvas.height);
  }

  function drawPlane() {
    const ratio = window.devicePixelRatio || 1;
    const context = plane.getContext("2d");
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    context.clearRect(0, 0, pad.size, pad.size);
    if (pad.background) context.drawImage(pad.background, 0, 0, pad.size, pad.size);
    if (code !== null) drawCode(context, code, pad);
  }

  function describe() {
    if (!pad.encode) return pad.texts.loading;
    if (code === null) return pad.texts.empty;
    const parts = Array.from(code.mean.slice(0, 2), (m, i) => `${m.toFixed(2)} ± ${Math.exp(code.logVar[i] / 2).toFixed(2)}`);
    return `z = (${parts.join(", ")}${code.mean.length > 2 ? ", …" : ""})`;
  }

  // One frame: strokes -> ink -> 28x28 -> code -> reconstruction, and every view redrawn.
  function update() {
    framePending = false;
    const started = performance.now();
    paintStrokes(drawCanvas.getContext("2d"), drawCanvas.width / pad.inkSide);
    paintStrokes(inkContext, 1);
    const painted = performance.now();
    let digit = shown;
    if (strokes.length > 0) digit = preprocess(inkFromRGBA(inkContext.getImageData(0, 0, pad.inkSide, pad.inkSide).data, inkValues), pad.inkSide, pad.inkSide, pad.rules, scratch);
    const preprocessed = performance.now();
    let reconstruction = null;
    code = null;
    if (digit !== null && pad.encode) {
      const { mean, logVar } = pad.encode(digit);
      code = { mean: mean.slice(), logVar: logVar.slice() };
    }
    const encoded = performance.now();
    if (code !== null) reconstruction = pad.decode(code.mean);
    const decoded = performance.now();
    showImage(seenCanvas, digit);
    showImage(reconstructionCanvas, reconstruction);
    drawPlane();
    readout.textContent = describe();
    pad.digit = digit;
    const done = performance.now();
    if (openedAt !== null && code !== null) {
      stats.pictureShownAt = done;
      remember(stats.pictureMs, done - openedAt);
      remember(stats.pictureStageMs.frame, done - started);
      openedAt = null;
    }

    stats.frames += 1;
    if (handledAt !== null) {
      remember(stats.latencyMs, done - handledAt);
      remember(stats.sinceEventMs, done - eventAt);
    }
    handledAt = eventAt = null;
    const steps = { paint: painted - started, preprocess: preprocessed - painted, encode: encoded - preprocessed, decode: decoded - encoded, views: done - decoded };
    for (const [step, ms] of Object.entries(steps)) remember(stats.stageMs[step], ms);
  }

  // Many pointer events can arrive between two screen refreshes: the model runs once per refresh.
  function requestUpdate(event) {
    if (event && handledAt === null) {
      handledAt = performance.now();
      eventAt = event.timeStamp;
    }
    if (framePending) return;
    framePending = true;
    requestAnimationFrame(update);
  }

  // Python hears the 28x28 only: each setStateValue costs a script rerun.
  function send() {
    if (framePending) update(); // the last points of the stroke, not the frame before them
    const digit = strokes.length > 0 || shown !== null ? pad.digit : null;
    pad.setStateValue("digit", digit === null ? null : Array.from(digit, (v) => Math.round(v * 1e6) / 1e6));
    stats.sent += 1;
  }

  const inkPoint = (event) => {
    const box = drawCanvas.getBoundingClientRect();
    return [((event.clientX - box.left) / box.width) * pad.inkSide, ((event.clientY - box.top) / box.height) * pad.inkSide];
  };

  drawCanvas.addEventListener("pointerdown", (event) => {
    if (activePointer !== null || (event.pointerType === "mouse" && event.button !== 0)) return;
    event.preventDefault();
    activePointer = event.pointerId;
    drawCanvas.setPointerCapture(event.pointerId);
    shown = picture = null;
    say("");
    strokes.push(inkPoint(event));
    requestUpdate(event);
  });
  drawCanvas.addEventListener("pointermove", (event) => {
    if (event.pointerId !== activePointer) return;
    const stroke = strokes[strokes.length - 1];
    for (const each of event.getCoalescedEvents?.() ?? [event]) stroke.push(...inkPoint(each)); // pens report more often than frames
    requestUpdate(event);
  });
  const endStroke = (event) => {
    if (event.pointerId !== activePointer) return;
    activePointer = null;
    send();
  };
  drawCanvas.addEventListener("pointerup", endStroke);
  drawCanvas.addEventListener("pointercancel", endStroke);
  view.undo.addEventListener("click", () => {
    if (strokes.length === 0) return;
    strokes.pop();
    requestUpdate(null);
    send();
  });
  view.clear.addEventListener("click", () => {
    strokes = [];
    shown = picture = null;
    say("");
    requestUpdate(null);
    send();
  });

  // ---- a picture: decoded by the browser, checked against the server's limits, made MNIST-like here

  function say(text, refused = false) {
    note.textContent = text;
    note.classList.toggle("refused", refused);
  }
  const refuse = (key, values) => say(fill(pad.texts[`images.${key}`] ?? key, values), true);

  async function openPicture(file) {
    const started = performance.now();
    say("");
    if (!pad.limits || !pad.encode) { // opened before the networks arrived: made as soon as they are here
      waiting = file;
      return say(pad.texts.loading);
    }
    const read = await readPicture(file, pad.limits);
    if (read.refused) return refuse(read.refused, read.values);
    const decoded = performance.now();
    const made = digitFromPicture(read.rgba, read.width, read.height, pad.rules, pad.photo);
    const preprocessed = performance.now();
    remember(stats.pictureStageMs.decode, decoded - started);
    remember(stats.pictureStageMs.preprocess, preprocessed - decoded);
    if (made.digit === null) return refuse("no_digit");
    picture = pictureCanvas(made.picture);
    strokes = [];
    shown = made.digit;
    openedAt = started;
    const speak = (notes) => say(notes.map((key) => pad.texts[key] ?? key).join(" "));
    speak(made.notes);
    requestUpdate(null);
    send();
    if (await isAnimated(file, read.format)) speak(["images.animated", ...made.notes]); // after the star: it reads the file again
  }

  view.open.addEventListener("click", () => input.click());
  input.addEventListener("change", () => {
    const [file] = input.files;
    input.value = ""; // the same file chosen again is a change again
    if (file) openPicture(file);
  });
  drawCanvas.addEventListener("dragover", (event) => event.preventDefault());
  drawCanvas.addEventListener("drop", (event) => {
    event.preventDefault();
    const [file] = event.dataTransfer.files;
    if (file) openPicture(file);
  });

  // Called on every Streamlit rerun with the server's view: networks, rules, limits, texts.
  pad.update = ({ encoder, decoder, rules, photo, limits, ink: inkCanvas, extent, size, texts }) => {
    Object.assign(pad, { rules, photo, limits });
    if (inkCanvas.side !== pad.inkSide) { // strokes are kept in this canvas's pixels
      ink.width = ink.height = pad.inkSide = inkCanvas.side;
      inkValues = new Float32Array(pad.inkSide * pad.inkSide);
      strokes = [];
    }
    pad.pen = inkCanvas.pen;
    pad.texts = texts;
    labelPad(view, texts, limits);
    if (size !== pad.size || extent !== pad.extent) {
      Object.assign(pad, { size, extent });
      resize();
      if (pad.decoder) drawBackground();
    }
    const digests = `${encoder} ${decoder}`;
    if (digests !== pad.digests) {
      pad.digests = digests;
      pad.encode = pad.decode = null;
      const askAgain = (digest) => pad.digests === digests && pad.setTriggerValue("missing", digest);
      Promise.all([awaitNetwork(encoder, askAgain), awaitNetwork(decoder, askAgain)]).then(([encoderNet, decoderNet]) => {
        if (pad.digests !== digests) return; // another model was picked meanwhile
        pad.encode = makeEncoder(encoderNet);
        pad.decode = makeDecoder(decoderNet);
        pad.decoder = decoderNet;
        stats.ready = true;
        drawBackground();
        requestUpdate(null);
        if (waiting !== null) openPicture(waiting);
        else whenIdle(() => warmUp(pad.rules, pad.photo, stats));
        waiting = null;
      });
    }
    requestUpdate(null);
  };

  function drawBackground() {
    pad.color = getComputedStyle(wrapper).color || "#888"; // the theme's text colour, read once, not per frame
    const { points, labels } = pad.decoder;
    pad.background = planeBackground({ size: pad.size, extent: pad.extent, color: pad.color, points, labels });
  }

  resize();
  return pad;
}

export default networkComponent(createPad);
