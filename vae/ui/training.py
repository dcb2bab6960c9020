"""Training and comparing: retrain with another KL weight in the background, then compare runs side by side.

The job itself belongs to vae.jobs (one per runs/ folder, shared by every session and server); this
module only starts, cancels and watches it. Its status is polled by a fragment: every second while
a job runs, every five seconds otherwise, so a job started from another session shows up here.
"""

from __future__ import annotations

import streamlit as st

from vae import catalog, jobs
from vae.config import KL_PRESETS
from vae.limits import FULL_DATA_RETRAIN, QUICK_RETRAIN, RETRAIN_DEFAULT_EPOCHS, RETRAIN_EPOCHS, RETRAIN_LABEL_WEIGHT
from vae.messages import Message
from vae.ui import figures, loaders, present, replay, sidebar
from vae.ui import presenter as presenter_ui
from vae.ui.i18n import keyed, language, message, t

KL_CHOICES = sorted({*(m * 10.0**e for e in range(-4, 1) for m in (1, 2, 5)), 10.0, *KL_PRESETS.values()})
SUBSETS = (0, 10_000, 2_000)  # 0: all 60,000 training images
EXPLORE_PAGE = "vae/ui/pages/explore.py"  # relative to app.py, as st.navigation names it
MAX_COMPARED = 3  # kl_weight 0.0784, 1 and 4 side by side


def training_panel() -> None:
    st.subheader(t("train.header"))
    runs_dir = catalog.roots()["runs"]
    left, right = st.columns([1, 2], gap="large")
    with left:
        lang = language()  # bound now: a format_func may be called outside this script run
        presets = [*KL_PRESETS.values(), None]  # None: another weight, on a log scale
        kl_weight = st.radio(
            "kl_weight", presets, key=keyed("kl_preset"), horizontal=True,
            format_func=lambda w: t("train.other", lang) if w is None else t(f"train.preset_{presets.index(w)}", lang),
        )  # fmt: skip
        if kl_weight is None:
            kl_weight = st.select_slider(
                t("train.kl_log"), KL_CHOICES, value=1.0, key="kl_other", format_func=lambda v: f"{v:g}"
            )
        epochs = st.slider(
            t("train.epochs"), int(RETRAIN_EPOCHS.low), int(RETRAIN_EPOCHS.high), RETRAIN_DEFAULT_EPOCHS, key="epochs"
        )
        subset = st.selectbox(
            t("train.data"), SUBSETS, format_func=lambda n: t(f"train.subset_{n}"), key=keyed("subset")
        )
        labels = st.toggle(t("train.labels"), value=True, key="labels", help=t("train.labels_help"))
        if st.button(t("train.start"), type="primary", key="train", disabled=not presenter_ui.can_act()):
            try:
                if presenter_ui.allowed():  # asked at the action too, as every presenter action is (vae.ui.presenter)
                    jobs.start(runs_dir, kl_weight, epochs, subset or None, labels=labels)
            except jobs.JobError as err:
                st.warning(message(err))
        presenter_ui.locked_note()
        presenter_ui.refusal_note()
    with right:
        present.caption(t("train.caption"))
        recipes = {"batch": FULL_DATA_RETRAIN.batch_size, "lr": FULL_DATA_RETRAIN.lr}
        recipes |= {"quick_batch": QUICK_RETRAIN.batch_size, "quick_lr": QUICK_RETRAIN.lr}
        recipes |= {"label_weight": RETRAIN_LABEL_WEIGHT}
        st.caption(t("train.recipe", **recipes) + last_retrain_time(runs_dir))
        job = jobs.current(runs_dir)
        (job_live if job is not None and job.running else job_idle)(runs_dir)


def last_retrain_time(runs_dir) -> str:
    """How long the latest finished job took here, from its own history (no figure typed into prose)."""
    job = jobs.current(runs_dir)
    if job is None or job.status.get("state") != "finished":
        return ""
    history = catalog.describe(f"runs/{job.name}").history
    seconds = sum(entry.get("seconds", 0.0) for entry in history)
    return " " + t("train.last_time", epochs=len(history), seconds=seconds) if history else ""


def job_view(runs_dir) -> None:
    """Status, progress, live loss curves and the latest samples of the server's training job."""
    job = jobs.current(runs_dir)
    if job is None:
        return
    seen = st.session_state.get("job_seen")
    st.session_state.job_seen = (job.name, job.running)
    if seen is not None and seen != (job.name, job.running):
        # A job started or ended (maybe in another session): the picker and the polling rate live outside
        # this fragment, and no callback can tell them, so the whole page runs once.
        st.rerun(scope="app")
    status, settings = job.status, job.settings
    title = t("train.job_title", name=job.name, kl_weight=settings.get("kl_weight", float("nan")))
    if job.running:
        epochs = status.get("epochs") or settings.get("epochs") or 1
        epoch = min(status.get("epoch", 0) + 1, epochs)  # the last epoch's commit is not a further epoch
        text = t("train.progress", title=title, epoch=epoch, epochs=epochs, share=job.fraction_done)
        st.progress(job.fraction_done, text=text)
        st.button(
            t("train.cancel"), on_click=presenter_ui.guard, args=(jobs.cancel, runs_dir), key="cancel",
            disabled=not presenter_ui.can_act(),
        )  # fmt: skip
        presenter_ui.refusal_note()
    elif status.get("state") == "finished":
        st.success(t("train.finished", title=title, epochs=status.get("epoch", 0)))
        if st.button(t("train.open"), key="open_run", on_click=sidebar.open_run, args=(f"runs/{job.name}",)):
            st.switch_page(EXPLORE_PAGE)
    else:
        said = message(Message.from_status(status))
        st.warning(t(f"train.state_{status.get('state', 'failed')}", title=title, message=said))
    info = catalog.describe(f"runs/{job.name}")
    replay.live_replay(info)
    if info.history:
        st.plotly_chart(figures.loss_figure(info.history), key="job_losses")
    samples = sorted((info.path / "samples").glob("epoch_*.png"))
    if samples:
        st.image(samples[-1].read_bytes(), caption=t("train.samples", epoch=len(samples)), width=280)


@st.fragment(run_every=1)
def job_live(runs_dir) -> None:
    job_view(runs_dir)


@st.fragment(run_every=5)
def job_idle(runs_dir) -> None:
    if presenter_ui.can_act():  # whoever may press Train gets a train.py waiting, TensorFlow imported (vae.standby)
        jobs.prepare(runs_dir)
    job_view(runs_dir)


def compare_panel(runs: list[catalog.RunInfo], current: catalog.RunInfo | None) -> None:
    """Up to three runs side by side on shared axes: the KL weight's story at a glance."""
    st.subheader(t("compare.header"))
    by_name = {info.name: info for info in runs if info.ok}
    if len(by_name) < 2:
        st.caption(t("compare.need_two"))
        return
    names = list(by_name)
    first = names.index(current.name) if current is not None and current.name in by_name else 0
    default = [names[(first + i) % len(names)] for i in range(min(MAX_COMPARED, len(names)))]
    chosen = st.multiselect(
        t("compare.pick"), names, default, key="compare_runs", max_selections=MAX_COMPARED,
        format_func=lambda n: by_name[n].label,
    )  # fmt: skip
    loaded = []
    for name in chosen:
        try:
            loaded.append((by_name[name], loaders.load(name, by_name[name].version)))
        except catalog.RunError as err:
            st.error(t("frame.cannot_open", name=name, error=message(err)))
    if not loaded:
        return
    extent = figures.codes_extent(*(run.latents["mean"] for _, run in loaded))
    for i, (column, (info, run)) in enumerate(zip(st.columns(len(loaded), gap="medium"), loaded, strict=True)):
        with column:
            st.markdown(f"**{info.label}**")
            scatter = figures.scatter_figure(run.latents, here=None, extent=extent, height=360)
            st.plotly_chart(scatter, key=f"compare_scatter_{i}", config={"displaylogo": False})
            st.image(loaders.grid_png(info.name, info.version, 15), t("compare.grid"), output_format="PNG")
    last = [info.history[-1] for info, _ in loaded]
    labels = [f"kl_weight {info.config.kl_weight:g}" for info, _ in loaded]
    losses = figures.compare_loss_figure(labels, [info.history for info, _ in loaded])
    st.plotly_chart(losses, key="compare_losses", config={"displaylogo": False})
    bars = figures.bound_bars(labels, [e["val_reconstruction"] for e in last], [e["val_kl"] for e in last])
    st.plotly_chart(bars, key="compare_bars", config={"displaylogo": False})
    present.caption(t("compare.caption"))
