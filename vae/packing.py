"""Dense networks for the page: packed as bytes, sent once per session, and the JS that runs them bundled.

The latent pad runs the decoder in the browser, the drawing pad the encoder and the decoder
(vae/static/network.mjs). A network, packed little-endian:

    uint32 n | n bytes of JSON header (padded with spaces to a multiple of 4)
    per Dense layer: float32 kernel (inputs x outputs, row-major as Keras stores it), float32 bias
    float32 points (n_points x 2) | uint8 labels (n_points)     the faint scatter behind a latent plane

The header lists each layer's inputs, outputs and activation ("relu", "sigmoid", "linear"), the
latent_dim, the number of points, and a digest of the bytes that follow, which names the
network in the page. The decoder's last layer is packed with its sigmoid (model.decode applies it
to the logits); the encoder's two heads as one linear layer, z_mean's outputs then z_log_var's.

``ship`` mounts a network once per session (the page keeps every network it has been sent, for
every component: ~2 MB each should not cross the wire on every rerun, nor be hashed by Streamlit
each time), and again when the page says it is missing.
"""

from __future__ import annotations

import hashlib
import json
import re
import struct
import weakref
from collections.abc import Callable
from pathlib import Path

import numpy as np
import streamlit as st

from vae.inference import Dense, NumpyVAE, keras_dense_stack

STATIC = Path(__file__).parent / "static"
MAX_SCATTER_POINTS = 2000  # enough to show the clusters; every point is 9 bytes on the wire
SENT_KEY = "vae.networks-sent"  # session state: digests this session's page has been sent


def layers_of(model, role: str) -> tuple[list[Dense], list[str], int]:
    """(Dense layers, activations, latent_dim) of a model's "decoder" or "encoder", as the page runs them.
    model: a vae.inference.NumpyVAE, or a Keras vae.model.VAE."""
    numpy = isinstance(model, NumpyVAE)
    if role == "decoder":
        stack = model.decoder if numpy else keras_dense_stack(model.decoder)
        return stack, ["relu"] * (len(stack) - 1) + ["sigmoid"], stack[0][0].shape[0]
    stack = [*model.encoder, model.z_mean, model.z_log_var] if numpy else keras_dense_stack(model.encoder, 2)
    (mean_kernel, mean_bias), (log_var_kernel, log_var_bias) = stack[-2:]
    heads = (np.concatenate([mean_kernel, log_var_kernel], axis=1), np.concatenate([mean_bias, log_var_bias]))
    return [*stack[:-2], heads], ["relu"] * (len(stack) - 2) + ["linear"], mean_kernel.shape[1]


def pack_network(
    layers: list[Dense],
    activations: list[str],
    latent_dim: int,
    latents: np.ndarray | None = None,
    labels: np.ndarray | None = None,
) -> bytes:
    """Dense layers (and a scatter subsample) as bytes for the page: layout in the module doc."""
    arrays, described = [], []
    for (kernel, bias), activation in zip(layers, activations, strict=True):
        described.append({"inputs": kernel.shape[0], "outputs": kernel.shape[1], "activation": activation})
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
        "latent_dim": int(latent_dim),
        "layers": described,
        "points": len(points),
    }
    header_bytes = json.dumps(header).encode()
    header_bytes += b" " * (-len(header_bytes) % 4)  # keep the floats 4-byte aligned
    return struct.pack("<I", len(header_bytes)) + header_bytes + body


def read_digest(packed: bytes) -> str:
    (length,) = struct.unpack_from("<I", packed)
    return json.loads(packed[4 : 4 + length])["digest"]


# (model, role) -> (scatter fingerprint, digest, packed bytes). Packing costs 10-20 ms, too much for
# every slider step. A model's weights are taken to be fixed once it is shown: the app loads
# each run into its own model object, and a retrained run is a new object.
_packed_cache: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def packed_network(
    model, role: str, latents: np.ndarray | None = None, labels: np.ndarray | None = None
) -> tuple[str, bytes]:
    """(digest, packed bytes) of a model's "decoder" or "encoder" (with the scatter behind it), remembered
    per model object and redone when the scatter changes."""
    scatter = hashlib.blake2b(role.encode())  # ~0.1 ms for 10,000 test latents
    for array in (latents, labels):
        array = None if array is None else np.ascontiguousarray(array)
        scatter.update(repr(None if array is None else (array.shape, array.dtype)).encode())
        scatter.update(b"" if array is None else array.tobytes())
    cached = _packed_cache.setdefault(model, {}).get(role)
    if cached is None or cached[0] != scatter.digest():
        packed = pack_network(*layers_of(model, role), latents, labels)
        cached = _packed_cache[model][role] = (scatter.digest(), read_digest(packed), packed)
    return cached[1], cached[2]


def ship(component: Callable, carriers: dict[str, tuple[str, bytes]], missing: str | None = None) -> None:
    """Mount component(key=carrier key, data=packed) for each network this session's page lacks: not sent
    yet, or reported missing. carriers: {carrier key: (digest, packed)}; missing: the digest the page
    asked for again (its trigger value), if any."""
    sent = st.session_state.setdefault(SENT_KEY, set())
    for key, (digest, packed) in carriers.items():
        if digest not in sent or missing == digest:
            component(key=key, data=packed, height=0)
            sent.add(digest)


LOCAL_IMPORT = re.compile(r'^(?:import|export) \{[^}]*\} from "\./([\w-]+\.mjs)";.*\n', re.MULTILINE)


def bundle(name: str) -> str:
    """vae/static/<name> with the modules it imports from ./ inlined before it, each once, dependencies first.
    A components v2 component takes one JS string (asset folders are for installed packages only), while
    node runs the same files as modules (tests/test_pad.py, tests/test_drawpad.py)."""
    done: list[str] = []

    def visit(module: str) -> None:
        if module not in done:
            for dependency in LOCAL_IMPORT.findall((STATIC / module).read_text()):
                visit(dependency)
            done.append(module)

    visit(name)
    return "\n".join(f"// ---- {module}\n" + LOCAL_IMPORT.sub("", (STATIC / module).read_text()) for module in done)
