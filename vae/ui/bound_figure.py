"""The bound for one digit, drawn: where -ELBO, IWAE and the exact -log p(x) sit on one line of nats, and
the exact posterior p(z|x) with the encoder's q(z|x) over it. Pure: no Streamlit."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from vae.ui.figures import FONT, ellipse_xy, point_trace
from vae.ui.i18n import t

MARKS = (("exact_nll", "#2ca02c"), ("iwae", "#1f77b4"), ("neg_elbo", "#d62728"))


def bound_line(bound: dict, height: int = 220) -> go.Figure:
    """The three estimates of -log p(x) on one axis, tight around them so a gap of a few nats is visible,
    the gap (= KL(q(z|x) || p(z|x))) bracketed between the exact value and -ELBO."""
    fig = go.Figure()
    low, high = bound["exact_nll"], bound["neg_elbo"]
    fig.add_trace(
        go.Scatter(
            x=[low, high], y=[0.5, 0.5], mode="lines+text", line={"color": "grey", "width": 6},
            text=["", t("bound.gap_label", gap=bound["gap"])], textposition="top left", hoverinfo="skip",
            showlegend=False,
        )
    )  # fmt: skip
    for row, (key, colour) in enumerate(MARKS):
        fig.add_trace(
            go.Scatter(
                x=[bound[key]], y=[0], mode="markers+text", marker={"size": 18, "color": colour, "symbol": "line-ns",
                "line": {"width": 4, "color": colour}}, text=[t(f"bound.mark_{key}", value=bound[key])],
                textposition=("bottom center", "top center", "bottom center")[row], name=t(f"bound.mark_{key}", value=bound[key]),
                hoverinfo="name", showlegend=False,
            )
        )  # fmt: skip
    span = max(high - low, 1.0)
    fig.update_layout(
        height=height, margin={"l": 10, "r": 10, "t": 10, "b": 10}, font=FONT, plot_bgcolor="white",
        xaxis={"range": [low - 0.6 * span, high + 0.6 * span], "title": t("bound.axis"), "showgrid": True},
        yaxis={"visible": False, "range": [-1, 1.2]},
    )  # fmt: skip
    return fig


def posterior_figure(
    z1: np.ndarray, z2: np.ndarray, density: np.ndarray, mean, log_var, height: int = 420
) -> go.Figure:
    """p(z|x) as an image on the latent plane, q(z|x)'s 1- and 2-sigma ellipses and mean over it."""
    fig = go.Figure(
        go.Heatmap(
            x=z1,
            y=z2,
            z=density.T,
            colorscale="Greys",
            showscale=False,
            hovertemplate=t("bound.hover") + "<extra></extra>",
        )
    )
    for sigmas, dash in ((1, "solid"), (2, "dot")):
        x, y = ellipse_xy(mean, log_var, sigmas)
        fig.add_trace(
            point_trace(
                x, y, t("bound.q_sigma", n=sigmas), "lines", line={"color": "#d62728", "dash": dash, "width": 2}
            )
        )
    fig.add_trace(
        point_trace(mean[0], mean[1], t("bound.q_mean"), marker={"color": "#d62728", "size": 10, "symbol": "x"})
    )
    fig.update_layout(
        height=height, margin={"l": 10, "r": 10, "t": 10, "b": 10}, font=FONT,
        xaxis={"title": "z1", "range": [float(z1[0]), float(z1[-1])]},
        yaxis={"title": "z2", "range": [float(z2[0]), float(z2[-1])], "scaleanchor": "x"},
        legend={"orientation": "h", "y": -0.2},
    )  # fmt: skip
    return fig
