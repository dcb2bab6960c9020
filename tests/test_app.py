"""The app driven through streamlit.testing.v1.AppTest: the frame, the explorer page and the training page.

AppTest runs whole scripts; it has no plotly chart or custom component to drive, so the map's selection
is sent the way the browser sends it (``select_on_map``) and the pad is read from what it was sent."""

import json
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.helpers import make_run, page_digit, send_to_pad
from vae import catalog, jobs
from vae.ui import loaders, sidebar

APP = str(Path(__file__).resolve().parents[1] / "app.py")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    base = tmp_path_factory.mktemp("built")
    return {
        "a": make_run(base / "a", kl_weight=1.0),
        "b": make_run(base / "b", kl_weight=4.0, seed=1, label_weight=20.0),
    }


@pytest.fixture
def app_roots(roots, built):
    """Two fake runs in an empty runs/ folder, fresh caches, and no job left running afterwards."""
    for name, run_dir in built.items():
        shutil.copytree(run_dir, roots["runs"] / name)
    st.cache_resource.clear()
    st.cache_data.clear()
    yield roots
    job = jobs.current(roots["runs"])
    if job is not None and job.running:
        jobs.cancel(roots["runs"])


def start_app(**query) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params.update(query)
    return at.run()


def select_on_map(at: AppTest, selection: dict) -> AppTest:
    """Send the map chart a selection as the browser does (a widget state), so its on_select callback runs.
    Pins AppTest internals (_tree, _run) on purpose: AppTest has no plotly widget to drive."""
    chart = next(e for e in at.get("plotly_chart") if e.key == "scatter-0")
    states = at._tree.get_widget_states()
    state = states.widgets.add()
    state.id = chart.proto.id
    state.string_value = json.dumps({"selection": {"points": [], "box": [], "lasso": []} | selection})
    return at._run(states)


def digit_url(at: AppTest) -> str:
    return at.image[0].value[0]


def pad(at: AppTest) -> dict:
    """What the page's sliders-and-digit component was sent this run: z, moves, the decoder's digest."""
    return json.loads(next(e.proto.json for e in at.get("bidi_component") if e.key == "pad"))


def sliders(at: AppTest) -> tuple[float, float]:
    """The server's point (the origin before anything moved it)."""
    return tuple(at.session_state[key] if key in at.session_state else 0.0 for key in ("z1", "z2"))


def whole_page(at: AppTest) -> AppTest:
    """After a callback that redraws only some panels (vae.ui.panels), AppTest's tree holds only those,
    where a browser keeps the others on screen: a full run puts the whole page back into the tree."""
    return at.run()


def no_errors(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def test_the_page_gets_the_point_and_the_decoder_of_a_2d_run(app_roots):
    """The sliders and the digit of a 2-D run live in the browser (tests/test_pad.py checks its decoder,
    tests/e2e the keys); the server sends the point, the slider range and the model."""
    at = start_app(run="runs/a")
    no_errors(at)
    sent = pad(at)
    assert sent["z"] == [0.0, 0.0] and sent["extent"] == 4.0 and sent["step"] == 0.1 and sent["moves"] == 0
    assert "z1" not in [s.key for s in at.slider]  # no server-side sliders: a step would cost a round trip


def test_beyond_two_dimensions_server_sliders_change_the_digit(app_roots):
    make_run(app_roots["runs"] / "d3", seed=2, latent_dim=3)
    at = start_app(run="runs/d3")
    no_errors(at)
    assert "pad" not in [
        e.key for e in at.get("bidi_component")
    ]  # no latent pad for a 3-D code (the drawing pad stays)
    origin = digit_url(at)
    at.slider(key="z1").set_value(2.0).run()
    assert digit_url(at) != origin
    assert "2.00" in at.image[0].captions[0]
    at.slider(key="z1").set_value(0.0).run()
    assert digit_url(at) == origin  # the same point decodes to the same picture


def test_picker_switches_runs(app_roots):
    at = start_app(run="runs/a")
    assert at.selectbox(key="run").value == "runs/a"
    assert not any("labels" in c.value for c in at.sidebar.caption)  # a plain VAE says nothing of labels
    assert set(at.selectbox(key="run").options) == {catalog.describe(n).label for n in ("runs/a", "runs/b")}
    decoder_a = pad(at)["digest"]
    at.selectbox(key="run").set_value("runs/b").run()
    no_errors(at)
    assert "kl_weight **4**" in at.sidebar.caption[0].value
    assert any("labels" in c.value and "20" in c.value for c in at.sidebar.caption)  # b was trained with them
    assert pad(at)["digest"] != decoder_a  # the page is sent the other model's decoder
    assert at.query_params["run"] == "runs/b"


def test_a_hostile_run_name_in_the_url_is_refused_and_the_app_works(app_roots):
    at = start_app(run="../../etc")
    assert any("not available" in w.value for w in at.sidebar.warning)
    assert at.selectbox(key="run").value in ("runs/a", "runs/b")
    assert pad(at)["digest"]


def test_a_broken_run_is_listed_with_its_reason_and_the_rest_works(app_roots):
    shutil.copytree(app_roots["runs"] / "a", app_roots["runs"] / "broken")
    (app_roots["runs"] / "broken" / "config.json").write_text("{garbage")
    at = start_app()
    no_errors(at)
    assert "runs/broken" not in at.selectbox(key="run").options
    assert any("config.json is not valid JSON" in m.value for m in at.sidebar.markdown)
    assert pad(at)["digest"]


def test_clicking_a_scatter_point_moves_the_sliders_and_shows_that_digit(app_roots):
    at = start_app(run="runs/a")
    mean = np.load(app_roots["runs"] / "a" / "latents.npz")["mean"]
    select_on_map(at, {"points": [{"customdata": 7, "x": 0, "y": 0}]})
    no_errors(at)
    assert sliders(at) == pytest.approx(tuple(mean[7]), abs=1e-5)
    assert pad(at)["z"] == pytest.approx(list(mean[7]), abs=1e-5) and pad(at)["moves"] == 1  # the page follows
    assert any("decoded from its mean code" in c for image in at.image for c in image.captions)
    # The fake run's 500 codes are not MNIST's 10,000 test images (and MNIST may be absent): no original, and why.
    assert any("Test image #7 (a 7) is not on this machine" in i.value for i in at.info)


def test_a_box_selection_jumps_to_its_centre(app_roots):
    at = start_app(run="runs/a")
    box = {"xref": "x", "yref": "y", "x": [1.0, 2.0], "y": [-3.0, -2.0]}
    select_on_map(at, {"box": [box]})
    assert sliders(at) == (1.5, -2.5)
    assert pad(at)["z"] == [1.5, -2.5]
    box = {"xref": "x", "yref": "y", "x": [-1.0, 0.0], "y": [2.0, 3.0]}
    select_on_map(at, {"box": [box]})  # a second box moves the point again
    assert sliders(at) == (-0.5, 2.5) and pad(at)["moves"] == 2


def training_page(at: AppTest) -> AppTest:
    return at.switch_page("vae/ui/pages/train.py").run()


def test_compare_view_shows_the_runs_side_by_side_on_shared_axes(app_roots):
    make_run(app_roots["runs"] / "c", kl_weight=0.0784, seed=3)
    at = training_page(start_app(run="runs/a"))
    no_errors(at)
    assert sorted(at.multiselect(key="compare_runs").value) == ["runs/a", "runs/b", "runs/c"]  # three fit
    assert [c for image in at.image for c in image.captions].count("15 x 15 latent grid") == 3
    assert at.query_params["run"] == "runs/a"  # the run survives the page switch
    # the retrain's recipe as vae.limits has it, labels included, and the toggle on as the shipped runs train
    assert any("label head weighs 50" in c.value for c in at.caption) and at.toggle(key="labels").value


def test_a_digit_from_the_pad_is_encoded_and_can_move_the_sliders(app_roots):
    at = start_app(run="runs/a")
    at = send_to_pad(at, {"digit": page_digit()})  # a picture opened on the pad: the page sends its 28x28
    no_errors(at)
    code = next(m.value for m in at.markdown if m.value.startswith("Code: z = ("))
    z1 = float(code.split("(")[1].split(" ")[0])
    assert at.session_state["star"]["mean"][0] == pytest.approx(z1, abs=0.006)  # the map's star
    at.button(key="move_to_digit").click().run()
    assert sliders(at)[0] == pytest.approx(z1, abs=0.006)
    assert pad(at)["z"][0] == pytest.approx(z1, abs=0.006)


@pytest.mark.parametrize(
    "value, message",
    [([0.5] * 783, "784 pixel values"), ("a picture, please", "784 pixel values"), ([7.0] * 784, "outside 0..1")],
)
def test_a_hostile_value_from_the_pad_gets_a_message_and_loses_nothing(app_roots, value, message):
    at = send_to_pad(start_app(run="runs/a"), {"digit": page_digit()})
    star = at.session_state["star"]["mean"].copy()
    at = send_to_pad(at, {"digit": value})
    assert not at.exception
    assert len(at.warning) == 1 and message in at.warning[0].value
    assert at.session_state["star"]["mean"].tolist() == star.tolist()  # the last good digit is kept
    whole_page(at).slider(key="grid_n").set_value(12).run()  # and the app keeps working
    assert not at.exception and pad(at)["digest"]


def poll(at: AppTest, runs_dir, until, timeout=240.0):
    """AppTest does not tick run_every: rerun the page until the job reaches a state."""
    seen = set()
    deadline = time.time() + timeout
    while time.time() < deadline:
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        job = jobs.current(runs_dir)
        seen.add(job.status.get("state"))
        if until(job):
            at.run()  # draw the page once more: the state may have changed just after the last rerun
            return seen
        time.sleep(0.5)
    raise AssertionError(f"job still {jobs.current(runs_dir).status} after {timeout} s")


def train_button(at: AppTest):
    return at.button(key="train")


@pytest.mark.slow
def test_retraining_runs_to_the_end_and_the_run_appears_in_the_picker(app_roots, mnist_dir):
    at = training_page(start_app(run="runs/a"))
    at.slider(key="epochs").set_value(1)
    at.selectbox(key="subset-en").set_value(2_000)
    at.radio(key="kl_preset-en").set_value(next(k for k in at.radio(key="kl_preset-en").options if "(4)" in k))
    train_button(at).click().run()
    job = jobs.current(app_roots["runs"])
    assert job.settings == {"kl_weight": 4.0, "epochs": 1, "subset": 2000, "labels": True}  # as shipped, by default
    train_button(at).click().run()  # a second click is told, not obeyed
    assert any("already running" in w.value for w in at.warning)
    seen = poll(at, app_roots["runs"], lambda job: not job.running)
    assert "running" in seen and jobs.current(app_roots["runs"]).status["state"] == "finished"
    assert [s.value for s in at.success if job.name in s.value] == [
        f"**{job.name}** · kl_weight 4: finished, 1 epochs."
    ]
    assert catalog.describe(f"runs/{job.name}").label in at.selectbox(key="run").options
    assert any(e.key == "job_replay" for e in at.get("plotly_chart"))  # the job's epochs on its latent map
    at.button(key="open_run").click().run()
    assert at.selectbox(key="run").value == f"runs/{job.name}"
    assert "kl_weight **4**" in at.sidebar.caption[0].value
    assert any("labels" in c.value and "50" in c.value for c in at.sidebar.caption)  # it says it used them
    assert at.subheader[0].value == "1 · Two numbers make a digit"  # back on the explorer


@pytest.mark.slow
def test_retraining_can_be_cancelled(app_roots, mnist_dir):
    at = training_page(start_app(run="runs/a"))
    at.slider(key="epochs").set_value(50)
    at.selectbox(key="subset-en").set_value(2_000)
    at.toggle(key="labels").set_value(False)  # a plain VAE, never shown a label
    train_button(at).click().run()
    job = jobs.current(app_roots["runs"])
    assert job.settings["labels"] is False and job.name.endswith("-nolabels")
    poll(at, app_roots["runs"], lambda job: job.status.get("state") == "running")
    at.button(key="cancel").click().run()
    poll(at, app_roots["runs"], lambda job: not job.running)
    assert jobs.current(app_roots["runs"]).status["state"] == "cancelled"
    assert any("cancelled" in w.value for w in at.warning)


def test_metrics_json_shows_what_it_has_and_survives_what_it_lacks():
    full = {
        "test": {"neg_elbo": 140.123, "reconstruction": 135.0, "kl": 5.1},
        "iwae": {"k": 1000, "nll": 137.5, "by_k": {"1": 140.1}},
        "exact": {"nll": 137.2},
        "coverage": {"n_digits": 10, "confident_share": 0.83},
        "seconds": {"iwae": 12.0},
    }
    rows = dict(sidebar.metric_rows(full))
    assert rows["test -ELBO"] == "140.12" and rows["IWAE -log p(x), k=1000"] == "137.50"
    assert rows["exact -log p(x) (quadrature)"] == "137.20" and rows["map cells that are clearly a digit"] == "83%"
    assert not any("seconds" in label for label in rows)
    assert sidebar.metric_rows({}) == [] and sidebar.metric_rows({"test": "garbage", "iwae": [1]}) == []


def test_the_digit_map_layer_reads_the_shipped_run_as_all_ten_digits():
    """The classifier's reading of the default run's grid, drawn over it: one label per cell, and every digit
    among them (the shipped run draws all ten; pretrained/README.md)."""
    st.cache_data.clear()
    at = start_app()
    at.toggle(key="digit_map").set_value(True).run()
    no_errors(at)
    info = catalog.describe(catalog.DEFAULT_RUN)
    labels = loaders.digit_map(info.name, info.version, 20)
    assert labels is not None, "pretrained/classifier.keras ships with the repository"
    assert labels.labels.shape == (20, 20) and set(labels.labels.ravel()) == set(range(10))
    grid = next(e for e in at.get("plotly_chart") if e.key == "grid")
    assert "classifier" in grid.proto.spec  # the layer is on the chart the page was sent


def test_a_link_reopens_the_run_and_the_point_and_keeps_them_current(app_roots):
    at = start_app(run="runs/b", z1="1.5", z2="-0.5")
    no_errors(at)
    assert at.selectbox(key="run").value == "runs/b" and sliders(at) == (1.5, -0.5)
    assert pad(at)["z"] == [1.5, -0.5]
    select_on_map(at, {"box": [{"xref": "x", "yref": "y", "x": [0.0, 1.0], "y": [0.0, 1.0]}]})
    assert (at.query_params["z1"], at.query_params["z2"]) == ("0.50", "0.50")  # the link follows the point
    assert at.switch_page("vae/ui/pages/train.py").run().query_params["run"] == "runs/b"


@pytest.mark.parametrize("query", [{"z1": "nan", "z2": "1"}, {"z1": "x"}, {"z1": "1e999", "z2": "0"}])
def test_a_bad_point_in_the_link_is_ignored_with_a_note(app_roots, query):
    at = start_app(run="runs/a", **query)
    no_errors(at)
    assert sliders(at) == (0.0, 0.0) and [toast.value for toast in at.toast] == [
        "The point in the link is not a pair of numbers; starting at the origin."
    ]


def test_the_reset_returns_the_page_to_its_start_without_a_reload(app_roots):
    at = start_app(run="runs/a")
    send_to_pad(at, {"digit": page_digit()})
    select_on_map(at, {"points": [{"customdata": 3, "x": 0, "y": 0}]})
    assert at.session_state["star"] is not None and sliders(at) != (0.0, 0.0)
    whole_page(at).button(key="reset").click().run()
    no_errors(at)
    assert sliders(at) == (0.0, 0.0) and pad(at)["z"] == [0.0, 0.0] and "star" not in at.session_state
    assert [e.key for e in at.get("bidi_component") if e.key.startswith("draw-")] == ["draw-1"]  # a fresh pad
    assert "decoded from its mean code" not in [c for image in at.image for c in image.captions]  # nothing picked


def test_the_presenter_view_steps_through_the_sections_and_moves_the_point_by_keys(app_roots):
    at = start_app(run="runs/a", present="1")
    no_errors(at)
    assert at.query_params["present"] == "1"
    assert [h.value for h in at.subheader] == ["1 · Two numbers make a digit", "2 · Where the test digits land"]
    assert not at.main.caption  # the teaching captions are folded away
    at.button(key="present_Right").click().run()
    assert sliders(at) == (0.25, 0.0) and pad(at)["moves"] == 1
    at.button(key="present_next").click().run()
    assert [h.value for h in at.subheader] == ["3 · Your own digit"]
    at.button(key="present_prev").click().run().button(key="present_prev").click().run()
    assert [h.value for h in at.subheader] == ["5 · How far is the ELBO from the truth? One digit's bound"]
    at.button(key="present_leave").click().run()
    assert len(at.subheader) >= 5 and "present" not in at.query_params
