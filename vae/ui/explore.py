"""The explorer's panels: two numbers make a digit, where the test digits land, the whole map decoded.

The point (vae.ui.point) is shared by the pad, the map's marker and the grid's ring; the own digit by
the map's star, the walk and the bound. Each panel is a fragment of its own, keyed as vae.ui.panels
names it, and a change reruns the panels that show it (vae.ui.panels.redraw): a release on the pad
redraws the map and the grid, a drawing or a picture its own panel and the map.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from vae import catalog
from vae.io import Run
from vae.limits import Z_LIMIT
from vae.pad import latent_pad
from vae.ui import figures, loaders, own_digit, panels, point, present, walk
from vae.ui.bound_panel import bound_panel
from vae.ui.i18n import message, t
from vae.ui.own_digit import STAR_KEY
from vae.ui.widgets import fresh, renew_widgets, show


def reset_page() -> None:
    """The reset button's callback: the point at the origin, nothing picked or selected, no own digit, the
    walk back to its default, the grid at its default size."""
    point.reset()
    own_digit.forget_digit()
    for key in ("grid_n", "digit_map", walk.PATH_KEY, "scatter_figure", TOOL_KEY):
        st.session_state.pop(key, None)
    renew_widgets()


PAD_SIZE = 220  # the digit and the plane side by side beside the map on a 1280 px projector
TOOL_KEY = "_map_tool"  # the map's drag mode: "select" after a box, "zoom" after a click


def point_panels(info: catalog.RunInfo) -> None:
    """Sliders, digit and plane (left), the test set's codes with the point on them (right), your own digit,
    the walk and the bound (below): one fragment each, rerun together on a full run."""
    own_digit.refresh(info)  # another run was picked (a full run): the own digit under its encoder
    if present.shows("point"):
        left, right = st.columns([5, 4], gap="medium")
        with left:
            pad_fragment(info)
        with right:
            map_fragment(info)
    if present.shows("own"):
        own_fragment(info)
    if present.shows("walk"):
        walk_fragment(info)
    if present.shows("bound"):
        bound_fragment(info)


@st.fragment(key=panels.PAD)
def pad_fragment(info: catalog.RunInfo) -> None:
    digit_panel(info, loaders.run_of(info))


@st.fragment(key=panels.MAP)
def map_fragment(info: catalog.RunInfo) -> None:
    map_panel(info, loaders.run_of(info))


@st.fragment(key=panels.OWN)
def own_fragment(info: catalog.RunInfo) -> None:
    own_digit.own_digit_panel(info, loaders.run_of(info))


@st.fragment(key=panels.WALK)
def walk_fragment(info: catalog.RunInfo) -> None:
    walk.walk_panel(info, loaders.run_of(info))


@st.fragment(key=panels.BOUND)
def bound_fragment(info: catalog.RunInfo) -> None:
    bound_panel(info, loaders.run_of(info))


def digit_panel(info: catalog.RunInfo, run: Run) -> None:
    """For a 2-D code the sliders, the digit and the plane run in the browser (vae.pad): a step is drawn at
    once; Python hears the point when a step ends. Beyond two dimensions, server sliders over z1 and z2."""
    st.subheader(t("digit.header"))
    if run.config.latent_dim == 2:
        latent_pad(
            run.model, z=point.here(), extent=Z_LIMIT, latents=run.latents["mean"], labels=run.latents["labels"],
            key="pad", on_release=heard, size=0 if present.presenting() else PAD_SIZE, moves=point.moves(),
            texts={name: t(f"digit.pad_{name}") for name in ("digit", "plane", "loading")},
        )  # fmt: skip
        present.caption(t("digit.pad_caption"))
    else:
        for key in point.Z_KEYS:
            st.session_state.setdefault(key, 0.0)
        moved = {"on_change": panels.redraw, "args": ("moved",)}  # the digit here, the marker and the ring
        z1 = st.slider("z1", -Z_LIMIT, Z_LIMIT, step=0.1, key="z1", format="%.2f", **moved)
        z2 = st.slider("z2", -Z_LIMIT, Z_LIMIT, step=0.1, key="z2", format="%.2f", **moved)
        show(st, loaders.decode(info, [[z1, z2]])[0], t("digit.decoded", z1=z1, z2=z2))
    present.caption(t("digit.caption"))


def heard(z: tuple[float, float]) -> None:
    """The pad's release: the server takes the point the page shows, and the panels that show it follow."""
    point.heard(z)
    panels.redraw("heard")


def map_panel(info: catalog.RunInfo, run: Run) -> None:
    """The test set's codes; a click or a box moves the point."""
    st.subheader(t("map.header"))
    here, picked = point.here(), point.picked(len(run.latents["mean"]))
    st.plotly_chart(
        session_scatter(info, run, here, picked),
        key=fresh(point.MAP_KEY),
        on_select=lambda: map_selected(run.latents["mean"]),
        selection_mode=("points", "box"),
        config={"displaylogo": False, "modeBarButtonsToRemove": ["lasso2d", "autoScale2d"]},
    )
    outside = int((np.abs(run.latents["mean"][:, :2]) > Z_LIMIT).any(axis=1).sum())
    caption = t("map.caption", z1=here[0], z2=here[1])
    present.caption(caption + (t("map.outside", n=outside) if outside else ""))
    if picked is not None:
        picked_digit(info, run, picked)


def map_selected(means: np.ndarray) -> None:
    """The map's on_select callback: the point moves, and the tool that made the selection stays picked. The
    chart is sent anew on each rerun and would fall back to zoom, so a second box would zoom instead."""
    point.on_map_select(means)
    event = st.session_state.get(fresh(point.MAP_KEY)) or {}
    st.session_state[TOOL_KEY] = "select" if (event.get("selection") or {}).get("box") else "zoom"
    panels.redraw("moved", "picked")


def session_scatter(info: catalog.RunInfo, run: Run, here: tuple[float, float], picked: int | None) -> go.Figure:
    """This session's scatter: rebuilt when the run, the picked digit or the language changes; a move or a
    new own digit only moves the overlays."""
    star = st.session_state.get(STAR_KEY)
    shows = (info.name, info.version, picked, t("figures.digit"))  # the language too: legend and hover text
    cached = st.session_state.get("scatter_figure")
    if cached is None or cached[0] != shows:
        cached = st.session_state.scatter_figure = (shows, figures.scatter_figure(run.latents, here, picked, star))
    figure = cached[1].update_layout(dragmode=st.session_state.get(TOOL_KEY, "zoom"))
    return figures.place_overlays(figure, here, star, st.session_state.get(walk.PATH_KEY))


def picked_digit(info: catalog.RunInfo, run: Run, row: int) -> None:
    """The clicked test digit next to the decoding of its mean code."""
    label = int(run.latents["labels"][row])
    test_images, why_not = loaders.test_images(run.config.dataset)
    if test_images is not None and len(test_images) != len(run.latents["mean"]):
        test_images, why_not = None, t("map.latents_mismatch", codes=len(run.latents["mean"]), n=len(test_images))
    a, b, c = st.columns([1, 1, 2])
    if test_images is not None:
        show(a, test_images[row] / 255.0, t("map.test_image", row=row, label=label), scale=5)
    else:
        why = message(why_not).splitlines()[0]  # a missing dataset's message goes on to list every place searched
        a.info(t("map.test_image_missing", row=row, label=label, why=why))
    show(b, loaders.decode(info, run.latents["mean"][row : row + 1, :2])[0], t("map.decoded_mean"), scale=5)
    present.caption(t("map.blurrier"), c)


@st.fragment(key=panels.GRID)
def grid_panel(info: catalog.RunInfo) -> None:
    """The seed tutorial's picture: the plane decoded on an n x n grid, optionally read by a classifier."""
    st.subheader(t("grid.header"))
    controls, picture = st.columns([1, 3], gap="large")
    with controls:
        n = st.slider(t("grid.per_side"), 10, 30, 20, key="grid_n")
        present.caption(t("grid.caption", n=n, z=Z_LIMIT))
        png = loaders.grid_png(info.name, info.version, n)
        st.download_button(
            t("grid.download"), loaders.grid_slide_png(info.name, info.version, n), file_name=f"{info.name.replace('/', '-')}-grid{n}.png",
            mime="image/png", key="grid_download",
        )  # fmt: skip
        show_map = st.toggle(t("grid.classifier_toggle"), key="digit_map")
        if show_map:
            present.caption(t("grid.classifier_caption"))
    with picture:
        fig = figures.grid_figure(png, n, point.here())
        if show_map:
            labels = loaders.digit_map(info.name, info.version, n)
            if labels is None:
                st.info(t("grid.no_classifier"))
            else:
                fig.add_trace(figures.digit_map_trace(labels, n))
        st.plotly_chart(fig, key="grid", config={"displaylogo": False})
