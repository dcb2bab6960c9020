"""The class board's map, built from arrays alone (no Streamlit here): the test codes as a faint picture, the
class's digits as diamonds on it.

The board page sends the map anew with every new digit, and the browser then draws the chart from
scratch. Ten thousand test codes drawn as points made that the page's main cost (an idle board page
costs a fraction of it; tests/stress/board_load.py); drawn once into a picture behind the axes they
cost the browser one image, and only the class's digits are points. Colours are vae.generate's
digit colours, as on the explorer's map.
"""

from __future__ import annotations

import base64
import io

import numpy as np
import plotly.graph_objects as go

from vae.generate import DIGIT_COLOURS
from vae.limits import Z_LIMIT
from vae.ui.figures import POINT_COLOUR, plane_layout, point_trace
from vae.ui.i18n import t

TEST_CODES_OPACITY = 0.3  # the test codes faint: the class's digits are what the hall looks at
PICTURE_SIDE = 700  # pixels of the test codes' picture; the chart scales it to its own size
DOT_RADIUS = 1.6  # pixels in that picture
MARGIN = 1.02  # the axes reach 2 % beyond the extent, as on the explorer's map


def test_extent(means: np.ndarray) -> float:
    """A symmetric axis range holding all but the farthest half percent of the test codes, at least the slider
    range: a few stray codes far out would otherwise shrink the hall's cluster of digits to the middle."""
    spread = float(np.quantile(np.abs(np.asarray(means)[:, :2]), 0.995)) if len(means) else 0.0
    return max(Z_LIMIT, float(np.ceil(spread * 1.05 * 2) / 2))


def codes_picture(means: np.ndarray, labels: np.ndarray, extent: float, side: int = PICTURE_SIDE) -> bytes:
    """The codes' first two coordinates as a PNG: a dot in its digit's colour per code on a transparent ground,
    covering [-extent, extent] on both axes (z2 growing upwards)."""
    from PIL import Image, ImageDraw

    picture = Image.new("RGBA", (side, side), (0, 0, 0, 0))
    draw = ImageDraw.Draw(picture)
    to_pixels = side / (2 * extent)
    for (z1, z2), label in zip(np.asarray(means)[:, :2], np.asarray(labels), strict=True):
        x, y = (z1 + extent) * to_pixels, (extent - z2) * to_pixels
        draw.ellipse([x - DOT_RADIUS, y - DOT_RADIUS, x + DOT_RADIUS, y + DOT_RADIUS], fill=DIGIT_COLOURS[int(label)])
    buffer = io.BytesIO()
    picture.save(buffer, "PNG")
    return buffer.getvalue()


def board_figure(latents: dict, extent: float = Z_LIMIT, height: int = 620) -> go.Figure:
    """The board's map: the test codes as a faint picture with a legend of the digits' colours, the prior's 1 and
    2 sigma circles, an empty trace for the class's digits (place_submissions fills it) and a ring for the one
    picked. Only the class's digits take hover and clicks."""
    edge = extent * MARGIN
    fig = go.Figure()
    for digit in range(10):  # legend entries only: the codes themselves are in the picture
        fig.add_trace(
            go.Scatter(x=[None], y=[None], mode="markers", name=str(digit), hoverinfo="skip",
                       marker={"size": 9, "color": DIGIT_COLOURS[digit]})
        )  # fmt: skip
    picture = codes_picture(latents["mean"], latents["labels"], edge)
    fig.add_layout_image(
        source="data:image/png;base64," + base64.b64encode(picture).decode(), xref="x", yref="y", x=-edge, y=edge,
        sizex=2 * edge, sizey=2 * edge, sizing="stretch", layer="below", opacity=TEST_CODES_OPACITY,
    )  # fmt: skip
    fig.add_trace(
        go.Scatter(
            x=[], y=[], customdata=[], mode="markers", name=t("figures.board_digits"), meta="submissions",
            marker={"size": 14, "symbol": "diamond", "line": {"width": 1.5, "color": "black"}}, hoverinfo="text",
        )
    )  # fmt: skip
    ring = {"size": 28, "symbol": "circle-open", "color": POINT_COLOUR, "line": {"width": 3}}
    fig.add_trace(point_trace([], [], t("figures.picked"), marker=ring, showlegend=False, meta="board_pick"))
    return plane_layout(fig, edge, height)


def place_submissions(
    fig: go.Figure, means: np.ndarray, digits: np.ndarray, ids: np.ndarray, picked: int | None, extent: float
) -> go.Figure:
    """Put the class's digits on a board_figure made for ``extent``: at their codes' first two coordinates, in
    their intended digit's colour, each carrying its submission id (customdata, a plain list: a click reports
    it back). The axes widen to hold a digit that landed farther out than the test codes."""
    x, y = (means[:, 0], means[:, 1]) if len(means) else ([], [])
    reach = max(extent, float(np.abs(means[:, :2]).max()) * 1.05 if len(means) else 0.0) * MARGIN
    fig.update_layout(xaxis_range=[-reach, reach], yaxis_range=[-reach, reach])
    hover = [
        t("figures.hover_submission", digit=int(d), id=int(i), z1=float(a), z2=float(b))
        for d, i, a, b in zip(digits, ids, x, y, strict=True)
    ]
    fig.update_traces(
        x=x, y=y, customdata=[int(i) for i in ids], hovertext=hover,
        marker={"color": [DIGIT_COLOURS[int(d)] for d in digits]}, selector=lambda trace: trace.meta == "submissions",
    )  # fmt: skip
    rows = np.flatnonzero(ids == picked) if picked is not None else []
    ring = (x[rows[0]], y[rows[0]]) if len(rows) else ([], [])
    fig.update_traces(
        x=np.atleast_1d(ring[0]), y=np.atleast_1d(ring[1]), selector=lambda trace: trace.meta == "board_pick"
    )
    return fig


def trace_number(fig: go.Figure, meta: str) -> int:
    """The index of the trace with this meta: a plotly selection names its points' traces by number."""
    return next(i for i, trace in enumerate(fig.data) if trace.meta == meta)
