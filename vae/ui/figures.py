"""The page's plotly figures, built from arrays alone: no Streamlit here, so each is testable on its own.

Colours: digits keep the "tab10" colours of vae.generate everywhere; the point the sliders show
is black on a white halo and the user's own digit a gold star, colours no digit uses, so neither
hides among the 3s at the origin.
"""

from __future__ import annotations

import base64

# plotly's validators import pandas on first use and take a half-imported one from sys.modules: two sessions'
# first figures in two threads then fail (tests/stress/board_load.py hit it). Imported here, under Python's
# import lock, before any figure is built.
import numpy as np
import pandas  # noqa: F401
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from vae.generate import DIGIT_COLOURS, DigitMap
from vae.limits import Z_LIMIT
from vae.ui.i18n import t

POINT_COLOUR = "black"
STAR_COLOUR = "gold"
MARKER_NAME = "sliders"  # the trace the page moves on each step (session_scatter updates it by name)
FONT = {"size": 14}


def point_trace(x, y, name: str, mode: str = "markers", webgl: bool = False, **style) -> go.Scatter | go.Scattergl:
    """A marker or line that takes no hover. webgl: for one drawn over the WebGL cloud of test codes, since
    plotly draws every WebGL trace above every SVG one (an SVG star sat hidden under the codes)."""
    trace = go.Scattergl if webgl else go.Scatter
    return trace(x=np.atleast_1d(x), y=np.atleast_1d(y), name=name, mode=mode, hoverinfo="skip", **style)


def ellipse_xy(mean, log_var, sigmas: float = 1.0, points: int = 65) -> tuple[np.ndarray, np.ndarray]:
    """The outline of q(z|x)'s k-sigma ellipse in the first two coordinates."""
    (m1, m2), (s1, s2) = np.asarray(mean)[:2], np.exp(0.5 * np.asarray(log_var)[:2])
    angle = np.linspace(0, 2 * np.pi, points)
    return m1 + sigmas * s1 * np.cos(angle), m2 + sigmas * s2 * np.sin(angle)


def codes_extent(*means: np.ndarray, floor: float = Z_LIMIT) -> float:
    """A symmetric axis range holding every code of every run given (so runs compared side by side share
    axes and no low-KL spread is cut), at least the slider range."""
    largest = max([floor, *(float(np.abs(m[:, :2]).max()) for m in means if len(m))])
    return float(np.ceil(largest * 1.05 * 2) / 2)


def _set(fig: go.Figure, meta: str, x, y) -> None:
    if not any(trace.meta == meta for trace in fig.data):  # update_traces would do nothing, silently
        raise ValueError(f"the figure has no {meta!r} trace to place")
    fig.update_traces(x=np.atleast_1d(x), y=np.atleast_1d(y), selector=lambda trace: trace.meta == meta)


def place_overlays(fig: go.Figure, here: tuple[float, float] | None, star: dict | None, path=None) -> go.Figure:
    """Move the point, the own digit's star and ellipse and the walk's path (z_start, z_end, steps) on a
    scatter_figure (None hides each)."""
    if path is None:
        _set(fig, "path", [], [])
    else:
        z_start, z_end, steps = path
        along = np.linspace(0.0, 1.0, steps)[:, None]
        line = (1 - along) * np.asarray(z_start)[:2] + along * np.asarray(z_end)[:2]
        _set(fig, "path", line[:, 0], line[:, 1])
    _set(fig, "point", *(([], []) if here is None else here))
    _set(fig, "halo", *(([], []) if here is None else here))
    if star is None:
        _set(fig, "star", [], [])
        _set(fig, "ellipse", [], [])
    else:
        _set(fig, "star", star["mean"][0], star["mean"][1])
        _set(fig, "ellipse", *ellipse_xy(star["mean"], star["log_var"]))
    return fig


def scatter_figure(
    latents: dict,
    here: tuple[float, float] | None = None,
    picked: int | None = None,
    star: dict | None = None,
    extent: float = Z_LIMIT,
    height: int = 520,
    opacity: float = 0.6,
) -> go.Figure:
    """The test set's latent means, one WebGL trace per digit, the prior's 1 and 2 sigma circles, and on
    top (in this order) the picked test digit, the user's digit with its 1-sigma ellipse, the point
    (here=None: no point, for the compare view)."""
    means, labels = latents["mean"], latents["labels"]
    fig = go.Figure()
    for digit in range(10):
        rows = np.flatnonzero(labels == digit)
        fig.add_trace(
            go.Scattergl(
                x=means[rows, 0], y=means[rows, 1], customdata=rows.astype(np.int32), name=str(digit), mode="markers",
                marker={"size": 4, "color": DIGIT_COLOURS[digit], "opacity": opacity},
                unselected={"marker": {"opacity": opacity * 0.7}},
                hovertemplate=t("figures.hover_code", digit=digit) + "<extra></extra>",
            )
        )  # fmt: skip
    if picked is not None:
        ring = {"size": 16, "symbol": "circle-open", "color": POINT_COLOUR, "line": {"width": 2}}
        fig.add_trace(point_trace(means[picked, 0], means[picked, 1], t("figures.picked"), marker=ring, webgl=True))
    # The walk's path, the star, its ellipse and the point are always there (empty when unused), so a new
    # upload, drawing, walk or step updates small traces of the cached figure instead of rebuilding 10,000 points.
    steps = {"line": {"color": "black", "dash": "dash", "width": 2}, "marker": {"size": 6, "color": "black"}}
    fig.add_trace(point_trace([], [], t("figures.walk"), "lines+markers", webgl=True, meta="path", **steps))
    ellipse = {"color": "black", "dash": "dot"}
    fig.add_trace(point_trace([], [], t("figures.one_sigma"), "lines", webgl=True, line=ellipse, meta="ellipse"))
    style = {"size": 18, "symbol": "star", "color": STAR_COLOUR, "line": {"width": 1.5, "color": "black"}}
    fig.add_trace(point_trace([], [], t("figures.your_digit"), marker=style, webgl=True, meta="star"))
    halo = {"size": 22, "symbol": "x-thin", "line": {"width": 8, "color": "white"}}
    fig.add_trace(point_trace([], [], "halo", marker=halo, showlegend=False, webgl=True, meta="halo"))
    cross = {"size": 20, "symbol": "x-thin", "line": {"width": 4, "color": POINT_COLOUR}}
    fig.add_trace(point_trace([], [], MARKER_NAME, marker=cross, showlegend=False, webgl=True, meta="point"))
    place_overlays(fig, here, star)
    return plane_layout(fig, extent * 1.02, height)


def plane_layout(fig: go.Figure, edge: float, height: int) -> go.Figure:
    """The latent plane's frame: square axes over [-edge, edge], the prior's 1 and 2 sigma circles, the
    digit legend under the plot (where the toolbar cannot cover it)."""
    for r in (1, 2):
        fig.add_shape(type="circle", x0=-r, y0=-r, x1=r, y1=r, line={"color": "grey", "dash": "dash", "width": 1})
    axis = {"range": [-edge, edge], "zeroline": False, "constrain": "domain"}  # a square plane, neither range widened
    fig.update_layout(
        height=height, margin={"l": 10, "r": 10, "t": 10, "b": 10}, uirevision="keep", font=FONT,
        xaxis=axis | {"title": "z1"}, yaxis=axis | {"title": "z2", "scaleanchor": "x"},
        legend={"itemsizing": "constant", "orientation": "h", "y": -0.12, "title": {"text": t("figures.digit")}},
    )  # fmt: skip
    return fig


def grid_figure(png: bytes, n: int, here: tuple[float, float], height: int = 600) -> go.Figure:
    """The grid picture on z axes with a ring where the point is. The picture is sent as it was cached."""
    edge = Z_LIMIT + Z_LIMIT / (n - 1)  # cell centres sit on the linspace: the picture reaches half a cell further
    ring = {"size": 26, "symbol": "circle-open", "color": "white", "line": {"width": 3}}
    fig = go.Figure(point_trace(here[0], here[1], MARKER_NAME, marker=ring, showlegend=False))
    fig.add_layout_image(
        source="data:image/png;base64," + base64.b64encode(png).decode(), xref="x", yref="y", x=-edge, y=edge,
        sizex=2 * edge, sizey=2 * edge, sizing="stretch", layer="below",
    )  # fmt: skip
    axis = {"range": [-edge, edge], "showgrid": False, "zeroline": False}
    fig.update_layout(
        height=height, margin={"l": 10, "r": 10, "t": 10, "b": 10}, plot_bgcolor="black", font=FONT,
        xaxis=axis | {"title": "z1", "constrain": "domain"},
        yaxis=axis | {"title": "z2", "scaleanchor": "x", "constrain": "domain"},
    )  # fmt: skip
    return fig


def digit_map_trace(labels: DigitMap, n: int) -> go.Scatter:
    """One label per grid cell, in the cell's bottom-right corner so it never covers the digit's strokes
    (MNIST digits sit in the centre 20x20 of their 28x28); confident cells bold and in their colour."""
    z1, z2 = np.meshgrid(labels.z1, labels.z2)
    step = 2 * Z_LIMIT / (n - 1)
    text, colours, hover = [], [], []
    for digit, p in zip(labels.labels.ravel(), labels.confidence.ravel(), strict=True):
        sure = p > 0.9
        text.append(f"<b>{digit}</b>" if sure else str(digit))
        colours.append(DIGIT_COLOURS[digit] if sure else "rgba(200,200,200,0.7)")
        hover.append(t("figures.classifier_hover", digit=digit, p=p))
    return go.Scatter(
        x=z1.ravel() + 0.36 * step, y=z2.ravel() - 0.36 * step, mode="text", text=text, hovertext=hover,
        textfont={"color": colours, "size": 12}, hoverinfo="text", showlegend=False, name="classifier",
    )  # fmt: skip


LOSS_PANELS = ("reconstruction", "kl", "loss")


def loss_figure(history: list[dict], height: int = 260) -> go.Figure:
    """Reconstruction, KL and the training loss per epoch, train (solid) and test (dashed), in nats."""
    fig = make_subplots(rows=1, cols=3, subplot_titles=[t(f"figures.loss_{key}") for key in LOSS_PANELS])
    epochs = [entry["epoch"] for entry in history]
    for col, key in enumerate(LOSS_PANELS, start=1):
        for prefix, dash, colour, name in (("", "solid", "#d62728", "train"), ("val_", "dash", "#1f77b4", "test")):
            fig.add_trace(
                go.Scatter(
                    x=epochs, y=[entry.get(prefix + key) for entry in history], mode="lines+markers",
                    name=t(f"figures.{name}"), showlegend=col == 1, line={"dash": dash, "color": colour},
                ),
                row=1, col=col,
            )  # fmt: skip
    fig.update_xaxes(title_text=t("figures.epoch"))
    fig.update_layout(
        height=height, margin={"l": 10, "r": 10, "t": 30, "b": 10}, legend={"orientation": "h", "y": -0.3}, font=FONT
    )
    return fig


RUN_COLOURS = ("#444444", "#9467bd", "#17becf")  # up to three compared runs; never a digit's meaning here


def compare_loss_figure(labels: list[str], histories: list[list[dict]], height: int = 300) -> go.Figure:
    """The runs' test curves in one figure, a panel per loss part, one colour per run: the panels share
    the epoch axis and each part's scale is common to every run by construction."""
    fig = make_subplots(rows=1, cols=3, subplot_titles=[t(f"figures.loss_{key}") for key in LOSS_PANELS])
    for run, (label, history) in enumerate(zip(labels, histories, strict=True)):
        for col, key in enumerate(LOSS_PANELS, start=1):
            fig.add_trace(
                go.Scatter(
                    x=[e["epoch"] for e in history], y=[e.get("val_" + key) for e in history], mode="lines",
                    name=label, legendgroup=label, showlegend=col == 1, line={"color": RUN_COLOURS[run], "width": 2},
                ),
                row=1, col=col,
            )  # fmt: skip
    fig.update_xaxes(title_text=t("figures.epoch"))
    fig.update_layout(
        height=height, margin={"l": 10, "r": 10, "t": 40, "b": 10}, font=FONT, legend={"orientation": "h", "y": -0.3}
    )
    return fig


def bound_bars(labels: list[str], reconstruction: list[float], kl: list[float], height: int = 320) -> go.Figure:
    """Each run's test reconstruction, KL and their sum -ELBO, a panel each with its own scale from zero (a
    KL of 5 nats is no sliver on top of a 130-nat bar), every bar with its number."""
    parts = {
        "reconstruction": reconstruction,
        "kl": kl,
        "neg_elbo": [r + k for r, k in zip(reconstruction, kl, strict=True)],
    }
    fig = make_subplots(rows=1, cols=3, subplot_titles=[t(f"figures.bar_{name}") for name in parts])
    for col, values in enumerate(parts.values(), start=1):
        fig.add_trace(
            go.Bar(x=labels, y=values, marker_color=list(RUN_COLOURS[: len(labels)]), text=[f"{v:.1f}" for v in values],
                   textposition="outside", cliponaxis=False, showlegend=False),
            row=1, col=col,
        )  # fmt: skip
        fig.update_yaxes(range=[0, 1.15 * max(values)], row=1, col=col)
    fig.update_layout(height=height, yaxis_title=t("figures.bars_y"), margin={"t": 40, "b": 10}, font=FONT)
    return fig
