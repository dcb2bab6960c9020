"""A page with only the drawing pad, for benchmarks/stroke_latency.py and tests/e2e/test_drawing.py:

    streamlit run benchmarks/drawpad_page.py -- RUN_DIR

Under the pad, a caption says what the server heard: the 28x28's ink and the code Python's
encoder gives it, so a browser test can compare it with the page's own readout.
"""

import sys
from pathlib import Path

import numpy as np
import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `streamlit run` puts only this folder on the path

from vae.drawpad import draw_pad  # noqa: E402
from vae.io import load_run  # noqa: E402


@st.cache_resource
def cached_run(run_dir: str):
    return load_run(run_dir, numpy=True)  # as the app: the numpy forward pass, no TensorFlow


run = cached_run(sys.argv[1])
latents = run.latents or {}
digit = draw_pad(run.model, latents=latents.get("mean"), labels=latents.get("labels"), key="draw")
if digit is None:
    st.caption("server heard: nothing")
else:
    mean, log_var = run.model.encode(digit.reshape(1, -1))
    z = ", ".join(f"{m:.2f}" for m in mean[0][:2])
    sigma = ", ".join(f"{s:.2f}" for s in np.exp(log_var[0][:2] / 2))
    st.caption(f"server heard: {digit.size} values, ink {digit.sum():.1f}, z = ({z}), sigma ({sigma})")
