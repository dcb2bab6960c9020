"""Watch it learn: the replay figure (pure) and the training page's replay panel (AppTest)."""

import json
import shutil

import numpy as np
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.helpers import ROOT
from vae.ui.replay_figure import replay_figure


def snapshots(epochs: int, spread: float, seed: int = 0) -> list[dict]:
    rng = np.random.default_rng(seed)
    labels = np.arange(200) % 10
    return [
        {"epoch": e, "mean": rng.normal(0, spread * e, (200, 2)), "log_var": np.zeros((200, 2)), "labels": labels}
        for e in range(1, epochs + 1)
    ]


def history(epochs: int) -> list[dict]:
    return [{"epoch": e, "val_reconstruction": 200.0 - e, "val_kl": 1.0 + e} for e in range(1, epochs + 1)]


def test_the_last_epoch_by_default_with_its_loss_parts_and_every_code_once():
    fig = replay_figure([("kl 1", snapshots(5, 0.5), history(5))])
    assert "epoch 5: reconstruction 195.0, KL 6.00 nats" in fig.layout.annotations[0].text
    shown = np.concatenate([trace.x for trace in fig.data])
    assert sorted(shown) == pytest.approx(sorted(snapshots(5, 0.5)[4]["mean"][:, 0]))
    second = replay_figure([("kl 1", snapshots(5, 0.5), history(5))], epoch=2)
    assert "epoch 2: reconstruction 198.0, KL 3.00 nats" in second.layout.annotations[0].text


def test_runs_side_by_side_on_shared_axes_that_hold_every_epoch_of_every_run():
    narrow, wide = snapshots(3, 0.2), snapshots(6, 1.5, seed=1)  # a low-KL run spreads far beyond +/-4
    fig = replay_figure([("kl 4", narrow, history(3)), ("kl 0.08", wide, history(6))], epoch=5)
    largest = max(np.abs(s["mean"]).max() for s in wide)
    assert fig.layout.xaxis.range == fig.layout.xaxis2.range and fig.layout.xaxis.range[1] >= largest
    assert replay_figure([("kl 4", narrow, history(3))], epoch=1).layout.xaxis.range[1] >= 3.0
    assert len(fig.data) == 20  # ten digits in each panel
    assert "epoch 3" in fig.layout.annotations[0].text  # the shorter run keeps showing its last epoch
    assert "epoch 5" in fig.layout.annotations[1].text


@pytest.fixture
def app_with_a_trained_run(roots, tiny_run):
    shutil.copytree(tiny_run, roots["runs"] / "tiny")
    st.cache_data.clear()
    st.cache_resource.clear()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params["run"] = "runs/tiny"
    return at.run().switch_page("vae/ui/pages/train.py").run()


def shown_title(at: AppTest) -> str:
    spec = json.loads(next(e.proto.spec for e in at.get("plotly_chart") if e.key == "replay"))
    return spec["layout"]["annotations"][0]["text"]


@pytest.mark.slow
def test_the_training_page_replays_a_trained_run_from_the_chosen_epoch(app_with_a_trained_run):
    at = app_with_a_trained_run
    assert not at.exception, [e.value for e in at.exception]
    assert at.multiselect(key="replay_runs").value == ["runs/tiny"]
    assert "epoch 2:" in shown_title(at)  # it opens on the last epoch
    at.slider(key="replay_epoch").set_value(1).run()
    assert "epoch 1:" in shown_title(at)
    at.button(key="replay_play").click().run()  # AppTest does not tick run_every: each run() is one tick
    assert at.button(key="replay_pause") and "epoch 1:" in shown_title(at)
    at.run()
    assert "epoch 2:" in shown_title(at)
