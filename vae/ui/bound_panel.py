"""The bound made visible for one digit: reconstruction, KL, -ELBO, IWAE and the exact -log p(x), the gap
named, and the exact posterior p(z|x) beside the encoder's Gaussian q(z|x)."""

from __future__ import annotations

import hashlib

import numpy as np
import streamlit as st

from vae import bound, catalog, generate
from vae.io import Run
from vae.ui import loaders, own_digit, panels, point, present, walk
from vae.ui.bound_figure import bound_line, posterior_figure
from vae.ui.i18n import keyed, language, t
from vae.ui.widgets import show

IWAE_SAMPLES = 1000


@st.cache_data(max_entries=64, show_spinner=False)
def digit_figures(name: str, version: tuple, _digit: np.ndarray, digest: str) -> dict:
    """digit_bound and exact_posterior of one 28x28 under one run: cached per run and digit (the digest)."""
    model = loaders.load(name, version).model
    z1, z2, density = bound.exact_posterior(model, _digit)
    mean, log_var = model.encode(_digit.reshape(1, -1))
    return {"bound": bound.digit_bound(model, _digit, k=IWAE_SAMPLES), "posterior": (z1, z2, density),
            "mean": mean[0], "log_var": log_var[0]}  # fmt: skip


def candidates(run: Run) -> dict[str, np.ndarray]:
    """The digits the panel can explain now: a typical test digit of each class and the picked one (when
    this machine has the test images), your own (drawn, or a picture) when there is one."""
    found = {}
    images, _ = loaders.test_images(run.config.dataset)
    if images is not None and len(images) == len(run.latents["mean"]):
        row = point.picked(len(images))
        if row is not None:
            found["picked"] = images[row] / 255.0
        means, labels = run.latents["mean"], run.latents["labels"]
        for digit, code in generate.typical_codes(means, labels).items():
            row = int(np.flatnonzero((means == code).all(axis=1))[0])
            found[f"digit_{digit}"] = images[row] / 255.0
    # Your own digit is not the default: its bound costs a fresh quadrature per drawing, where the test
    # digits' are cached for every session (a hall uploading at once; tests/stress/load_sessions.py).
    own = st.session_state.get(own_digit.DIGIT_KEY)
    if own is not None and "digit" in own:
        found["own"] = own["digit"]
    return found


def bound_panel(info: catalog.RunInfo, run: Run) -> None:
    st.subheader(t("bound.header"))
    if run.config.latent_dim != 2:
        st.caption(t("bound.two_d_only"))
        return
    found = candidates(run)
    tests = [key for key in found if key.startswith("digit_")]  # none where the test images are missing
    keys = tests + (["picked"] if tests else []) + ["own"]  # always offered: the choices stay put
    lang = language()  # bound now: a format_func may be called outside this script run

    def named(key: str) -> str:
        return walk.label(key, lang)

    choice = st.selectbox(t("bound.which"), keys, key=keyed("bound_digit"), format_func=named)
    panels.reads(panels.BOUND, *({choice} & {"picked", "own"}))
    if choice not in found:
        st.info(t(f"walk.missing_{choice}"))
        return
    digit = np.asarray(found[choice], np.float32).reshape(28, 28)
    shown = digit_figures(info.name, info.version, digit, hashlib.blake2b(digit.tobytes(), digest_size=16).hexdigest())
    numbers = shown["bound"]
    left, middle, right = st.columns([1, 2, 2], gap="medium")
    show(left, digit, t("bound.the_digit"), scale=5)
    with middle:
        st.markdown(t("bound.table", **numbers))
        st.plotly_chart(bound_line(numbers), key="bound_line", config={"displaylogo": False, "staticPlot": True})
    with right:
        z1, z2, density = shown["posterior"]
        figure = posterior_figure(z1, z2, density, shown["mean"], shown["log_var"])
        st.plotly_chart(figure, key="bound_posterior", config={"displaylogo": False})
    present.caption(t("bound.caption", gap=numbers["gap"]))
