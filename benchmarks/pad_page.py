"""A page with only the latent pad, for benchmarks/drag_fps.py: streamlit run benchmarks/pad_page.py -- RUN_DIR"""

import sys
import time
from pathlib import Path

import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `streamlit run` puts only this folder on the path

from vae.io import load_run  # noqa: E402
from vae.pad import latent_pad  # noqa: E402


@st.cache_resource
def cached_run(run_dir: str):
    return load_run(run_dir, numpy=True)  # as the app: the numpy forward pass, no TensorFlow


run = cached_run(sys.argv[1])
if "z" not in st.session_state:
    st.session_state.z = (0.0, 0.0)


def follow(point: tuple[float, float]) -> None:
    st.session_state.z = point


started = time.perf_counter()
point = latent_pad(
    run.model,
    z=st.session_state.z,
    latents=run.latents["mean"] if run.latents else None,
    labels=run.latents["labels"] if run.latents else None,
    key="pad",
    on_release=follow,
)
st.caption(
    f"released: {point}  ·  server z: {st.session_state.z}  ·  latent_pad() took {1000 * (time.perf_counter() - started):.1f} ms"
)
