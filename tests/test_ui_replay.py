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


def test_one_frame_per_epoch_with_its_loss_parts_and_the_last_epoch_first():
    fig = replay_figure([("kl 1", snapshots(5, 0.5), history(5))])
    assert [frame.name for frame in fig.frames] == ["1", "2", "3", "4", "5"]
    assert fig.layout.sliders[0].active == 4 and len(fig.layout.sliders[0].steps) == 5
    assert "epoch 5: reconstruction 195.0, KL 6.00 nats" in fig.layout.annotations[0].text
    assert "epoch 2: reconstruction 198.0, KL 3.00 nats" in fig.frames[1].layout.annotations[0].text
    first = np.concatenate([trace.x for trace in fig.frames[0].data])
    assert sorted(first) == pytest.approx(sorted(snapshots(5, 0.5)[0]["mean"][:, 0]))  # every code, once


def test_runs_play_side_by_side_on_shared_axes_that_hold_every_code():
    narrow, wide = snapshots(3, 0.2), snapshots(6, 1.5, seed=1)  # a low-KL run spreads far beyond +/-4
    fig = replay_figure([("kl 4", narrow, history(3)), ("kl 0.08", wide, history(6))], start=2)
    largest = max(np.abs(s["mean"]).max() for s in wide)
    assert fig.layout.xaxis.range == fig.layout.xaxis2.range and fig.layout.xaxis.range[1] >= largest
    assert len(fig.frames) == 6 and len(fig.frames[0].data) == 20  # ten digits in each panel
    last_of_narrow = fig.frames[5].layout.annotations[0].text
    assert "epoch 3" in last_of_narrow  # the shorter run keeps showing its last epoch
    assert fig.layout.sliders[0].active == 1


@pytest.fixture
def app_with_a_trained_run(roots, tiny_run):
    shutil.copytree(tiny_run, roots["runs"] / "tiny")
    st.cache_data.clear()
    st.cache_resource.clear()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params["run"] = "runs/tiny"
    return at.run().switch_page("vae/ui/pages/train.py").run()


def replay_spec(at: AppTest) -> dict:
    return json.loads(next(e.proto.spec for e in at.get("plotly_chart") if e.key == "replay"))


@pytest.mark.slow
def test_the_training_page_replays_a_trained_run_from_the_chosen_epoch(app_with_a_trained_run):
    at = app_with_a_trained_run
    assert not at.exception, [e.value for e in at.exception]
    assert at.multiselect(key="replay_runs").value == ["runs/tiny"]
    spec = replay_spec(at)
    assert len(spec["frames"]) == 2 and spec["layout"]["sliders"][0]["active"] == 1
    at.slider(key="replay_epoch").set_value(1).run()
    spec = replay_spec(at)
    assert spec["layout"]["sliders"][0]["active"] == 0 and "epoch 1:" in spec["layout"]["annotations"][0]["text"]
