"""The latent space forming, epoch by epoch: one plotly figure with a frame per epoch, a slider and Play.

Pure: built from runs' per-epoch snapshots (vae.io.Run.epoch_latents) and histories, no Streamlit, so
it is testable on its own. Several runs play side by side in one figure, on shared axes, under one
slider: the same epoch of each, so a lecturer can show two KL weights organising their codes.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from vae.generate import DIGIT_COLOURS
from vae.ui.figures import FONT, codes_extent
from vae.ui.i18n import t

FRAME_MS = 400  # Play's pace: 40 epochs in 16 s, slow enough to follow one cluster


def _traces(snapshot: dict, column: int) -> list[go.Scatter]:
    means, labels = snapshot["mean"], snapshot["labels"]
    return [
        go.Scatter(
            x=means[labels == digit, 0], y=means[labels == digit, 1], mode="markers", name=str(digit),
            legendgroup=str(digit), showlegend=column == 1, hoverinfo="skip",
            marker={"size": 4, "color": DIGIT_COLOURS[digit], "opacity": 0.7},
        )
        for digit in range(10)
    ]  # fmt: skip


def _title(label: str, entry: dict | None, epoch: int) -> str:
    if entry is None:
        return t("replay.frame_title_bare", label=label, epoch=epoch)
    rec, kl = entry.get("val_reconstruction", float("nan")), entry.get("val_kl", float("nan"))
    return t("replay.frame_title", label=label, epoch=epoch, rec=rec, kl=kl)


def replay_figure(
    runs: list[tuple[str, list[dict], list[dict]]], start: int | None = None, height: int = 460
) -> go.Figure:
    """runs: (label, epoch_latents, history) per run, each with at least one snapshot. One frame per epoch
    of the longest run (a shorter one keeps showing its last epoch); ``start`` is the epoch shown first
    (default: the last). The prior's 1 and 2 sigma circles in every panel."""
    longest = max(len(snapshots) for _, snapshots, _ in runs)
    extent = codes_extent(*(s["mean"] for _, snapshots, _ in runs for s in snapshots), floor=3.0)
    epochs = list(range(1, longest + 1))
    start = epochs[-1] if start is None else int(np.clip(start, 1, longest))

    def frame_data(epoch: int) -> tuple[list[go.Scatter], list[str]]:
        data, titles = [], []
        for column, (label, snapshots, history) in enumerate(runs, start=1):
            snapshot = snapshots[min(epoch, len(snapshots)) - 1]
            entry = next((e for e in history if e.get("epoch") == snapshot["epoch"]), None)
            data += _traces(snapshot, column)
            titles.append(_title(label, entry, snapshot["epoch"]))
        return data, titles

    data, titles = frame_data(start)
    fig = make_subplots(rows=1, cols=len(runs), subplot_titles=titles, horizontal_spacing=0.04)
    for i, trace in enumerate(data):
        fig.add_trace(trace, row=1, col=i // 10 + 1)
    frames = []
    for epoch in epochs:
        frame_traces, frame_titles = frame_data(epoch)
        annotations = [
            a.to_plotly_json() | {"text": text} for a, text in zip(fig.layout.annotations, frame_titles, strict=True)
        ]
        frames.append(go.Frame(data=frame_traces, name=str(epoch), layout={"annotations": annotations}))
    fig.frames = frames
    for column in range(1, len(runs) + 1):
        for r in (1, 2):
            fig.add_shape(
                type="circle", x0=-r, y0=-r, x1=r, y1=r, row=1, col=column,
                line={"color": "grey", "dash": "dash", "width": 1},
            )  # fmt: skip
    axis = {"range": [-extent, extent], "zeroline": False}
    fig.update_xaxes(axis | {"title": "z1"})
    fig.update_yaxes(axis | {"title": "z2", "scaleanchor": "x"})
    animate = {"mode": "immediate", "frame": {"duration": FRAME_MS, "redraw": True}, "transition": {"duration": 0}}
    fig.update_layout(
        height=height, margin={"l": 10, "r": 10, "t": 60, "b": 10}, font=FONT,
        legend={"orientation": "h", "y": -0.25, "title": {"text": t("figures.digit")}, "itemsizing": "constant"},
        updatemenus=[{
            "type": "buttons", "showactive": False, "x": 0, "y": -0.12, "xanchor": "left", "yanchor": "top",
            "buttons": [
                {"label": t("replay.play"), "method": "animate", "args": [None, animate | {"fromcurrent": True}]},
                {"label": t("replay.pause"), "method": "animate", "args": [[None], animate | {"mode": "immediate"}]},
            ],
        }],
        sliders=[{
            "active": start - 1, "x": 0.12, "len": 0.88, "y": -0.05, "currentvalue": {"prefix": t("replay.epoch")},
            "steps": [
                {"label": str(epoch), "method": "animate",
                 "args": [[str(epoch)], animate | {"frame": {"duration": 0, "redraw": True}}]}
                for epoch in epochs
            ],
        }],
    )  # fmt: skip
    return fig
