"""The latent pad: sliders, digit and a 2-D plane where every slider step or mouse move redraws the digit at once.

A server round trip per slider step costs ~100-150 ms here even for an empty Streamlit app
(more with a hall of students on one server), and a Streamlit slider reports a mouse drag
only on release; so the sliders and the decoder run in the browser (vae/static/pad.mjs,
plain JS, no network) and Python hears only where the point was let go. This module packs
the decoder's Dense weights into bytes for it and mounts the component:

    point = latent_pad(run.model, z=(z1, z2), extent=3.0, latents=run.latents["mean"],
                       labels=run.latents["labels"], key="pad", on_release=follow)

The pad shows (z1, z2) and decodes locally on every slider step and while dragging; when a
step or drag ends, ``on_release((z1, z2))`` runs before the rerun (like a widget callback:
it may set ``st.session_state``) and ``latent_pad`` returns the released point (None until
the first release). Only 2-D latent spaces have a pad.

The packed decoder, little-endian:

    uint32 n | n bytes of JSON header (padded with spaces to a multiple of 4)
    per Dense layer: float32 kernel (inputs x outputs, row-major as Keras stores it), float32 bias
    float32 points (n_points x 2) | uint8 labels (n_points)     the faint scatter behind the pad

The header lists each layer's inputs, outputs and activation ("relu", or "sigmoid" for the
last: model.decode applies the sigmoid to the decoder's logits), and a digest of the bytes
that follow, which names the decoder in the page.
"""

from __future__ import annotations

import hashlib
import json
import struct
import weakref
from collections.abc import Callable
from pathlib import Path

import numpy as np
import streamlit as st

from vae.inference import NumpyVAE, keras_dense_stack

JS = (Path(__file__).parent / "static" / "pad.mjs").read_text()
CSS = """
.pad { display: flex; flex-wrap: wrap; gap: 1rem; align-items: flex-start; color: var(--st-text-color); }
.pad .sliders { flex-basis: 100%; display: flex; flex-direction: column; gap: 0.4rem; }
.pad .sliders label { display: flex; align-items: center; gap: 0.75rem; font-family: var(--st-code-font, monospace); }
.pad .sliders input { flex: 1; accent-color: var(--st-primary-color, #d62728); }
.pad .sliders output { min-width: 3.5em; text-align: right; }
.pad canvas { display: block; border-radius: 4px; touch-action: none; }
.pad .plane { cursor: crosshair; }
.pad .digit { background: #000; }
.pad .readout { font-family: var(--st-code-font, monospace); font-size: 0.85rem; margin-top: 0.25rem; }
"""
MAX_SCATTER_POINTS = 2000  # enough to show the clusters; every point is 9 bytes on the wire
_component = st.components.v2.component("vae.latent_pad", js=JS, css=CSS)


def pack_decoder(model, latents: np.ndarray | None = None, labels: np.ndarray | None = None) -> bytes:
    """The decoder's Dense weights (and a scatter subsample) as bytes for the page: layout in the module doc.
    model: a vae.inference.NumpyVAE, or a Keras vae.model.VAE."""
    decoder = model.decoder if isinstance(model, NumpyVAE) else keras_dense_stack(model.decoder)
    layers, arrays = [], []
    for i, (kernel, bias) in enumerate(decoder):
        last = i == len(decoder) - 1
        layers.append(
            {"inputs": kernel.shape[0], "outputs": kernel.shape[1], "activation": "sigmoid" if last else "relu"}
        )
        arrays += [kernel, bias]

    points = np.zeros((0, 2), np.float32) if latents is None else np.asarray(latents, np.float32)[:, :2]
    labels = np.zeros(len(points), np.uint8) if labels is None else np.asarray(labels).astype(np.uint8)
    if len(points) != len(labels):
        raise ValueError(f"{len(points)} latents but {len(labels)} labels")
    if len(points) > MAX_SCATTER_POINTS:  # an even subsample keeps every digit's cluster
        keep = np.linspace(0, len(points) - 1, MAX_SCATTER_POINTS).astype(int)
        points, labels = points[keep], labels[keep]
    arrays += [points, labels]

    body = b"".join(np.ascontiguousarray(a, dtype="<f4" if a.dtype != np.uint8 else np.uint8).tobytes() for a in arrays)
    header = {
        "digest": hashlib.blake2b(body, digest_size=12).hexdigest(),
        "latent_dim": int(decoder[0][0].shape[0]),
        "layers": layers,
        "points": len(points),
    }
    header_bytes = json.dumps(header).encode()
    header_bytes += b" " * (-len(header_bytes) % 4)  # keep the floats 4-byte aligned
    return struct.pack("<I", len(header_bytes)) + header_bytes + body


def read_digest(packed: bytes) -> str:
    (length,) = struct.unpack_from("<I", packed)
    return json.loads(packed[4 : 4 + length])["digest"]


# model -> (scatter fingerprint, digest, packed bytes). Packing costs 10-20 ms, too much for
# every slider step. A model's weights are taken to be fixed once it is shown: the app loads
# each run into its own model object, and a retrained run is a new object.
_packed_cache: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def packed_decoder(model, latents: np.ndarray | None = None, labels: np.ndarray | None = None) -> tuple[str, bytes]:
    """(digest, pack_decoder(...)), remembered per model object and redone when the scatter changes."""
    scatter = hashlib.blake2b()  # ~0.1 ms for 10,000 test latents
    for array in (latents, labels):
        array = None if array is None else np.ascontiguousarray(array)
        scatter.update(repr(None if array is None else (array.shape, array.dtype)).encode())
        scatter.update(b"" if array is None else array.tobytes())
    cached = _packed_cache.get(model)
    if cached is None or cached[0] != scatter.digest():
        packed = pack_decoder(model, latents, labels)
        cached = _packed_cache[model] = (scatter.digest(), read_digest(packed), packed)
    return cached[1], cached[2]


def latent_pad(
    model,
    z: tuple[float, float] = (0.0, 0.0),
    extent: float = 3.0,
    latents: np.ndarray | None = None,
    labels: np.ndarray | None = None,
    key: str = "latent_pad",
    on_release: Callable[[tuple[float, float]], None] | None = None,
    size: int = 280,
    step: float = 0.1,
    moves: int = 0,
) -> tuple[float, float] | None:
    """Render two sliders, the digit and the pad at point z over [-extent, extent]^2; return the last
    released point (None before any).

    latents/labels: the test set's latent means and digit labels, drawn faintly behind the pad.
    on_release(point): called when a drag, an arrow-key move or a slider step ends, before the script reruns.
    size: the pad's and the digit's side in CSS pixels; step: the sliders' step.
    moves: how often Python moved the point itself. The page applies z only when this changes, so a
    rerun caused by the user's own moves never pulls the point back to a value it has just left.
    """
    if model.latent_dim != 2:
        raise ValueError(f"the latent pad needs a 2-D latent space; this model has {model.latent_dim} dimensions")
    digest, packed = packed_decoder(model, latents, labels)

    def released() -> None:
        point = st.session_state[key]["point"]
        if on_release is not None and point is not None:
            on_release((float(point[0]), float(point[1])))

    with st.container(gap=None):
        result = _component(
            key=key,
            data={
                "z": [float(z[0]), float(z[1])],
                "extent": float(extent),
                "step": float(step),
                "size": int(size),
                "digest": digest,
                "moves": int(moves),
            },  # fmt: skip
            on_point_change=released,
            on_missing_change=lambda: None,  # a trigger: result.missing is set for one run only
        )
        # The page keeps every decoder it has been sent, so the ~2 MB of weights cross the wire
        # once per session and model, not on every rerun (Streamlit would hash them each time:
        # ~10 ms). Should they be lost on the way, the pad asks again ("missing").
        sent = st.session_state.setdefault(f"{key}-sent-decoders", set())
        if digest not in sent or result.missing == digest:
            _component(key=f"{key}-decoder", data=packed, height=0)
            sent.add(digest)
    return None if result.point is None else (float(result.point[0]), float(result.point[1]))
