"""The latent space forming, epoch by epoch: one epoch of one or more runs, side by side on shared axes.

Pure: built from runs' per-epoch snapshots (vae.io.Run.epoch_latents) and histories, no Streamlit, so
it is testable on its own. The same epoch of each run, on axes that hold every epoch, so a lecturer
can show two KL weights organising their codes; vae/ui/replay.py steps and plays the epochs. (Plotly's
own frames were tried first: in Streamlit's chart a multi-frame Play stalls in plotly's frame queue.)
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from vae.generate import DIGIT_COLOURS
from vae.ui.figures import FONT, codes_extent
from vae.ui.i18n import t


def _traces(snapshot: dict, column: int) -> list[go.Scatter]:
    means, labels = snapshot["mean"], snapshot["labels"]
    return [
        go.Scatter(
            # plain lists, not numpy: plotly.py would send typed arrays, which plotly.js does not animate
            x=means[labels == digit, 0].tolist(), y=means[labels == digit, 1].tolist(), mode="markers", name=str(digit),
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


def replay_extent(runs: list[tuple[str, list[dict], list[dict]]]) -> float:
    """One axis range for every epoch of every run: the frames of a replay never rescale under the codes."""
    return codes_extent(*(s["mean"] for _, snapshots, _ in runs for s in snapshots), floor=3.0)


def replay_figure(
    runs: list[tuple[str, list[dict], list[dict]]], epoch: int | None = None, height: int = 460
) -> go.Figure:
    """runs: (label, epoch_latents, history) per run, each with at least one snapshot, drawn side by side at
    one epoch (default: the last of the longest run; a shorter run shows its last epoch), on axes that hold
    every epoch's codes, with the prior's 1 and 2 sigma circles in every panel."""
    longest = max(len(snapshots) for _, snapshots, _ in runs)
    epoch = longest if epoch is None else int(np.clip(epoch, 1, longest))
    data, titles = [], []
    for column, (label, snapshots, history) in enumerate(runs, start=1):
        snapshot = snapshots[min(epoch, len(snapshots)) - 1]
        entry = next((e for e in history if e.get("epoch") == snapshot["epoch"]), None)
        data.append(_traces(snapshot, column))
        titles.append(_title(label, entry, snapshot["epoch"]))
    fig = make_subplots(rows=1, cols=len(runs), subplot_titles=titles, horizontal_spacing=0.04)
    for column, traces in enumerate(data, start=1):
        for trace in traces:
            fig.add_trace(trace, row=1, col=column)
        for r in (1, 2):
            fig.add_shape(
                type="circle", x0=-r, y0=-r, x1=r, y1=r, row=1, col=column,
                line={"color": "grey", "dash": "dash", "width": 1},
            )  # fmt: skip
    extent = replay_extent(runs)
    axis = {"range": [-extent, extent], "zeroline": False}
    # "domain": a wide chart narrows each panel to a square instead of widening z1's range past the codes
    fig.update_xaxes(axis | {"title": "z1", "constrain": "domain"})
    fig.update_yaxes(axis | {"title": "z2", "scaleanchor": "x", "constrain": "domain"})
    fig.update_layout(
        height=height, margin={"l": 10, "r": 10, "t": 60, "b": 10}, font=FONT, uirevision="replay",
        legend={"orientation": "h", "y": -0.2, "title": {"text": t("figures.digit")}, "itemsizing": "constant"},
    )  # fmt: skip
    return fig
