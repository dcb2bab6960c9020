// The drawing pad's markup and its words: the elements drawpad.mjs draws in and listens to, and the
// labels, captions and button texts the server sends in the session's language (vae.drawpad).

const PAD_MARKUP = `
  <div class="draw-column">
    <canvas class="draw"></canvas>
    <div class="buttons"><button type="button" class="undo"></button><button type="button" class="clear"></button><button type="button" class="open"></button><input type="file" class="file" hidden></div>
    <div class="note" role="status" aria-live="polite"></div>
  </div>
  <div class="views">
    <figure><canvas class="seen" role="img"></canvas><figcaption class="seen-caption"></figcaption></figure>
    <figure><canvas class="reconstruction" role="img"></canvas><figcaption class="reconstruction-caption"></figcaption></figure>
  </div>
  <div class="plane-column">
    <canvas class="plane" role="img"></canvas>
    <div class="readout"></div>
  </div>`;

// The pad's elements, added to root.
export function padView(root) {
  const wrapper = document.createElement("div");
  wrapper.className = "drawpad";
  wrapper.innerHTML = PAD_MARKUP;
  root.appendChild(wrapper);
  const $ = (selector) => wrapper.querySelector(selector);
  return {
    wrapper,
    drawCanvas: $(".draw"),
    seenCanvas: $(".seen"),
    reconstructionCanvas: $(".reconstruction"),
    plane: $(".plane"),
    readout: $(".readout"),
    note: $(".note"),
    input: $(".file"),
    undo: $(".undo"),
    clear: $(".clear"),
    open: $(".open"),
    seenCaption: $(".seen-caption"),
    reconstructionCaption: $(".reconstruction-caption"),
  };
}

// Every word on the pad, and the file types its picture input offers (limits.accept, from vae.limits).
export function labelPad(view, texts, limits) {
  view.drawCanvas.setAttribute("aria-label", texts.canvas);
  view.seenCanvas.setAttribute("aria-label", texts.seen);
  view.reconstructionCanvas.setAttribute("aria-label", texts.reconstruction);
  view.plane.setAttribute("aria-label", texts.plane);
  view.seenCaption.textContent = texts.seen;
  view.reconstructionCaption.textContent = texts.reconstruction;
  view.undo.textContent = texts.undo;
  view.clear.textContent = texts.clear;
  view.open.textContent = texts.open;
  view.input.accept = limits.accept;
}
