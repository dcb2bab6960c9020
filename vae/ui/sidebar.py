"""The sidebar: which run the page shows (also ?run= in the URL), and that run's facts in nats."""

from __future__ import annotations

import streamlit as st

from vae import catalog, jobs
from vae.ui.i18n import message, t

RUN_KEY = "run"


def run_picker(runs: list[catalog.RunInfo]) -> catalog.RunInfo | None:
    """Pick a run; a run named in the URL wins on the first visit; broken runs are listed with their reason."""
    job = jobs.current(catalog.roots()["runs"])
    training = f"runs/{job.name}" if job is not None and job.running else None
    usable = {info.name: info for info in runs if info.ok}
    broken = [info for info in runs if not info.ok and info.name != training]  # a job's run before its first epoch
    st.sidebar.header(t("sidebar.header"))
    if not usable:
        st.sidebar.warning(t("sidebar.no_runs"))
    else:
        wanted = st.query_params.get("run")
        if st.session_state.get(RUN_KEY) not in usable:  # first visit, or the run went away
            st.session_state[RUN_KEY] = wanted if wanted in usable else next(iter(usable))
            if wanted and wanted not in usable:
                st.sidebar.warning(t("sidebar.url_run_missing", run=str(wanted)[:120]))
        st.sidebar.selectbox(
            t("sidebar.run"), list(usable), key=RUN_KEY,
            format_func=lambda n: usable[n].label + (t("sidebar.training_suffix") if n == training else ""),
        )  # fmt: skip
    if training is not None:
        st.sidebar.caption(t("sidebar.training_now", name=training))
    if broken:
        with st.sidebar.expander(t("sidebar.broken", n=len(broken))):
            for info in broken:
                st.markdown(f"**{info.name}**: {message(info.problem)}")
    return usable.get(st.session_state.get(RUN_KEY))


def open_run(name: str) -> None:
    """A callback: show another run (the training panel's "open it")."""
    st.session_state[RUN_KEY] = name


def run_facts(info: catalog.RunInfo) -> None:
    """The selected run's settings and its test-set loss parts, in nats."""
    config, last = info.config, (info.history[-1] if info.history else {})
    size = f"{config.subset:,}" if config.subset else t("sidebar.all")
    st.sidebar.caption(
        t(
            "sidebar.settings", kl_weight=config.kl_weight, epochs=len(info.history), latent_dim=config.latent_dim,
            hidden=list(config.hidden), size=size, dataset=config.dataset,
        )
    )  # fmt: skip
    if config.label_weight > 0:
        st.sidebar.caption(t("sidebar.labels", label_weight=config.label_weight))
    if last:
        rec, kl = last["val_reconstruction"], last["val_kl"]
        st.sidebar.markdown(
            t("sidebar.losses", rec=rec, kl=kl, elbo=rec + kl, kl_weight=config.kl_weight, loss=last["val_loss"])
        )
    figures = metric_rows(info.metrics)
    if figures:
        rows = "".join(f"| {label} | {value} |\n" for label, value in figures)
        st.sidebar.markdown(t("sidebar.metrics_head") + "\n|---|---:|\n" + rows)
    st.sidebar.caption(t("sidebar.nats"))


def metric_rows(metrics: dict) -> list[tuple[str, str]]:
    """The figures of metrics.json (written by vae.evaluate) that mean something to a student; absent ones
    are skipped, so runs evaluated by older or newer code show what they have."""
    groups = {name: group for name, group in metrics.items() if isinstance(group, dict)}
    test, iwae, exact, coverage = (groups.get(name, {}) for name in ("test", "iwae", "exact", "coverage"))
    rows = [(t(f"sidebar.metric_test_{key}"), value) for key, value in test.items() if key in TEST_KEYS]
    rows.append((t("sidebar.metric_iwae", k=iwae.get("k")), iwae.get("nll")))
    rows.append((t("sidebar.metric_exact"), exact.get("nll")))
    rows.append((t("sidebar.metric_digits"), coverage.get("n_digits")))
    share = coverage.get("confident_share")
    rows.append((t("sidebar.metric_confident"), None if share is None else f"{share:.0%}"))
    return [(label, f"{v:.2f}" if isinstance(v, float) else str(v)) for label, v in rows if v is not None]


TEST_KEYS = ("neg_elbo", "reconstruction", "kl")  # what vae.evaluate writes under "test"
