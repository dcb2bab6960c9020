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

The decoder is packed and shipped by vae.packing (layout there), with a subsample of the test
codes behind the pad; the page keeps it for the session.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import streamlit as st

from vae.packing import MAX_SCATTER_POINTS, bundle, layers_of, pack_network, packed_network, read_digest, ship

__all__ = ["MAX_SCATTER_POINTS", "latent_pad", "pack_decoder", "packed_decoder", "read_digest"]

JS = bundle("pad.mjs")
CSS = """
.pad { display: flex; flex-wrap: wrap; gap: 1rem; align-items: flex-start; color: var(--st-text-color); }
.pad .sliders { flex-basis: 100%; display: flex; flex-direction: column; gap: 0.4rem; }
.pad .sliders label { display: flex; align-items: center; gap: 0.75rem; font-family: var(--st-code-font, monospace); }
.pad .sliders input { flex: 1; accent-color: var(--st-primary-color, #d62728); }
.pad .sliders output { min-width: 3.5em; text-align: right; }
.pad canvas { display: block; border-radius: 4px; touch-action: none; }
.pad .plane { cursor: crosshair; }
.pad .digit { background: #000; }
.pad .readout { font-family: var(--st-code-font, monospace); font-size: min(0.85rem, 15px); margin-top: 0.25rem;
  white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.pad .legend { display: flex; flex-wrap: wrap; gap: 0.1rem 0.55rem; margin-top: 0.3rem; font-size: 0.85rem; }
.pad .legend i { display: inline-block; width: 0.7em; height: 0.7em; border-radius: 50%; margin-right: 0.2em; }
"""
TEXTS = {
    "digit": "decoded digit",
    "plane": "latent plane: drag the point, or use the arrow keys",
    "loading": "loading decoder…",
}
_component = st.components.v2.component("vae.latent_pad", js=JS, css=CSS)


def pack_decoder(model, latents: np.ndarray | None = None, labels: np.ndarray | None = None) -> bytes:
    """The decoder's Dense weights (and a scatter subsample) as bytes for the page (vae.packing's layout).
    model: a vae.inference.NumpyVAE, or a Keras vae.model.VAE."""
    return pack_network(*layers_of(model, "decoder"), latents, labels)


def packed_decoder(model, latents: np.ndarray | None = None, labels: np.ndarray | None = None) -> tuple[str, bytes]:
    """(digest, pack_decoder(...)), remembered per model object and redone when the scatter changes."""
    return packed_network(model, "decoder", latents, labels)


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
    texts: dict[str, str] | None = None,
) -> tuple[float, float] | None:
    """Render two sliders, the digit and the pad at point z over [-extent, extent]^2; return the last
    released point (None before any).

    latents/labels: the test set's latent means and digit labels, drawn faintly behind the pad.
    on_release(point): called when a drag, an arrow-key move or a slider step ends, before the script reruns.
    size: the pad's and the digit's side in CSS pixels, 0 to fit the window (the presenter view); step: the
    sliders' step. texts: replacements for TEXTS (translations).
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
                "texts": TEXTS | (texts or {}),
            },  # fmt: skip
            on_point_change=released,
            on_missing_change=lambda: None,  # a trigger: result.missing is set for one run only
        )
        ship(_component, {f"{key}-decoder": (digest, packed)}, missing=result.missing)
    return None if result.point is None else (float(result.point[0]), float(result.point[1]))
