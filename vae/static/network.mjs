// Dense networks shipped to the page as bytes (layout: vae/packing.py) and run in plain JS:
// the latent pad's decoder, the drawing pad's encoder and decoder. Each arrives once per
// session and is filed under its digest in one map for the whole page, so a network the latent
// pad has received is there for the drawing pad too (each component's JS string carries its own
// copy of this module: vae/packing.py's bundle() inlines it).

export function readHeader(bytes) {
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true);
  return { headerLength, header: JSON.parse(new TextDecoder().decode(bytes.subarray(4, 4 + headerLength))) };
}

export function unpackNetwork(bytes) {
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

// Returns forward(x) -> Float32Array of the last layer's outputs. The returned array is
// reused by the next call: copy it if you keep it.
export function makeForward({ layers }) {
  const outputs = layers.map((layer) => new Float32Array(layer.outputs));
  return function forward(x) {
    layers.forEach(({ inputs, outputs: width, activation, kernel, bias }, l) => {
      const y = outputs[l];
      y.set(bias);
      for (let i = 0; i < inputs; i++) {
        const xi = x[i];
        if (xi === 0) continue; // after a relu about half the inputs are exactly zero, and most of a digit's pixels
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

// The decoder: z -> 784 pixel probabilities (its last layer is packed with a sigmoid).
export const makeDecoder = makeForward;

// ---------------------------------------------------------------- networks arriving, components waiting for them

const networks = (globalThis.__vaeNetworks ??= new Map()); // digest -> {promise, resolve, arrived}

function networkEntry(digest) {
  if (!networks.has(digest)) {
    let resolve;
    const promise = new Promise((r) => (resolve = r));
    networks.set(digest, { promise, resolve, arrived: false });
  }
  return networks.get(digest);
}

// A component mounted with bytes as its data: file the network (every rerun brings the same bytes again).
export function receiveNetwork(bytes) {
  const found = networkEntry(readHeader(bytes).header.digest);
  if (!found.arrived) found.resolve(unpackNetwork(bytes));
  found.arrived = true;
}

// The network with this digest, once here. Python sends each once per session; should it have been
// lost on the way, askAgain(digest) tells Python (a trigger), every 2 s, five times at most.
export function awaitNetwork(digest, askAgain) {
  const found = networkEntry(digest);
  let tries = 0;
  const asking = setInterval(() => {
    if (found.arrived || ++tries > 5) clearInterval(asking);
    else askAgain(digest);
  }, 2000);
  return found.promise;
}

// The default export of a component that ships its networks this way: bytes are a network arriving
// (filed under its digest), anything else is the component's own data. createView(parentElement)
// builds the view once; Streamlit calls this again on every rerun with the same parentElement.
export function networkComponent(createView) {
  return function (component) {
    const { data, parentElement, setStateValue, setTriggerValue } = component;
    if (data instanceof Uint8Array) {
      receiveNetwork(data);
      return;
    }
    parentElement.view ??= createView(parentElement);
    Object.assign(parentElement.view, { setStateValue, setTriggerValue });
    parentElement.view.update(data);
  };
}
