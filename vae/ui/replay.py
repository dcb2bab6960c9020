"""Watch it learn: replay how a run's latent space formed, epoch by epoch, for up to three runs side by side."""

from __future__ import annotations

import streamlit as st

from vae import catalog
from vae.ui import loaders, present
from vae.ui.i18n import t
from vae.ui.replay_figure import replay_figure

MAX_REPLAYED = 3


def replay_panel(runs: list[catalog.RunInfo], current: catalog.RunInfo | None) -> None:
    st.subheader(t("replay.header"))
    usable = {info.name: info for info in runs if info.ok}
    with_snapshots = [name for name, info in usable.items() if loaders.epoch_latents(name, info.version)]
    if not with_snapshots:
        st.info(t("replay.none"))
        return
    first = current.name if current is not None and current.name in with_snapshots else with_snapshots[0]
    chosen = st.multiselect(
        t("replay.pick"), with_snapshots, [first], key="replay_runs", max_selections=MAX_REPLAYED,
        format_func=lambda n: usable[n].label,
    )  # fmt: skip
    if not chosen:
        return
    replayed = [(usable[n].label, loaders.epoch_latents(n, usable[n].version), usable[n].history) for n in chosen]
    longest = max(len(snapshots) for _, snapshots, _ in replayed)
    start = st.slider(t("replay.start"), 1, longest, longest, key="replay_epoch") if longest > 1 else 1
    st.plotly_chart(replay_figure(replayed, start), key="replay", config={"displaylogo": False})
    present.caption(t("replay.caption"))
    without = [usable[n].label for n in usable if n not in with_snapshots]
    if without:
        present.caption(t("replay.some_without", runs=", ".join(without)))


def live_replay(info: catalog.RunInfo) -> None:
    """The running job's epochs so far, the newest shown: each finished epoch adds a frame."""
    snapshots = loaders.epoch_latents(info.name, info.version)
    if snapshots:
        figure = replay_figure([(info.label, snapshots, info.history)], height=420)
        st.plotly_chart(figure, key="job_replay", config={"displaylogo": False})
