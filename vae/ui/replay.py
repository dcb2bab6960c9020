"""Watch it learn: replay how a run's latent space formed, epoch by epoch, for up to three runs side by side."""

from __future__ import annotations

import streamlit as st

from vae import catalog
from vae.ui import loaders, present
from vae.ui.i18n import t
from vae.ui.replay_figure import replay_figure

MAX_REPLAYED = 3
FRAME_SECONDS = 0.6  # Play's pace: 40 epochs in 24 s, slow enough to follow one cluster
PLAYING_KEY = "_replay_playing"
EPOCH_KEY = "replay_epoch"


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
    (replay_playing if st.session_state.get(PLAYING_KEY) else replay_still)(replayed)
    present.caption(t("replay.caption"))
    without = [usable[n].label for n in usable if n not in with_snapshots]
    if without:
        present.caption(t("replay.some_without", runs=", ".join(without)))


def longest(replayed) -> int:
    return max(len(snapshots) for _, snapshots, _ in replayed)


def play() -> None:
    st.session_state[PLAYING_KEY] = True
    st.session_state[EPOCH_KEY] = 0  # the epoch shown last: the first frame is epoch 1


def pause() -> None:
    st.session_state[PLAYING_KEY] = False


def epoch_chart(replayed, epoch: int) -> None:
    st.plotly_chart(replay_figure(replayed, epoch), key="replay", config={"displaylogo": False})


@st.fragment
def replay_still(replayed) -> None:
    """The epoch slider (it opens on the last epoch) and Play."""
    last = longest(replayed)
    st.session_state.setdefault(EPOCH_KEY, last)
    st.session_state[EPOCH_KEY] = min(max(st.session_state[EPOCH_KEY], 1), last)  # fewer epochs than the last replay
    controls, slider = st.columns([1, 6], vertical_alignment="bottom")
    if controls.button(t("replay.play"), key="replay_play", disabled=last < 2):
        play()
        # The click reran this fragment alone, which would draw epoch 1 here and stop; the page's run puts
        # the playing fragment, which ticks, in this one's place.
        st.rerun(scope="app")
    epoch = slider.slider(t("replay.epoch"), 1, max(last, 2), key=EPOCH_KEY, disabled=last < 2)
    epoch_chart(replayed, epoch)


@st.fragment(run_every=FRAME_SECONDS)
def replay_playing(replayed) -> None:
    """One epoch further each tick, then back to the still view at the last epoch."""
    if not st.session_state.get(PLAYING_KEY):  # Pause's click reran this fragment alone: the page's run stops it
        st.rerun(scope="app")
    last = longest(replayed)
    epoch = min(st.session_state.get(EPOCH_KEY, 0) + 1, last)
    st.session_state[EPOCH_KEY] = epoch  # so that Pause stops the slider on the epoch it shows
    st.button(t("replay.pause"), on_click=pause, key="replay_pause")
    st.progress(epoch / last, text=t("replay.playing", epoch=epoch, epochs=last))
    epoch_chart(replayed, epoch)
    if epoch >= last:
        pause()
        st.rerun(scope="app")  # the still view takes over; no callback runs at the end of a tick


def live_replay(info: catalog.RunInfo) -> None:
    """The running job's newest epoch: each finished epoch adds a frame (the job view polls every second)."""
    snapshots = loaders.epoch_latents(info.name, info.version)
    if snapshots:
        figure = replay_figure([(info.label, snapshots, info.history)], height=420)
        st.plotly_chart(figure, key="job_replay", config={"displaylogo": False})
