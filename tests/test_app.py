"""The app driven through streamlit.testing.v1.AppTest (full-script reruns; see NOTES for its limits)."""

import io
import json
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
import streamlit as st
from fake_runs import make_run
from PIL import Image, ImageDraw
from streamlit.testing.v1 import AppTest

from vae import catalog, jobs

APP = str(Path(__file__).resolve().parents[1] / "app.py")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    base = tmp_path_factory.mktemp("built")
    return {"a": make_run(base / "a", kl_weight=1.0), "b": make_run(base / "b", kl_weight=4.0, seed=1)}


@pytest.fixture
def roots(tmp_path, monkeypatch, built):
    paths = {"pretrained": tmp_path / "pretrained", "runs": tmp_path / "runs"}
    for root, path in paths.items():
        path.mkdir()
        monkeypatch.setenv(catalog.ROOT_ENV[root], str(path))
    for name, run_dir in built.items():
        shutil.copytree(run_dir, paths["runs"] / name)
    st.cache_resource.clear()
    st.cache_data.clear()
    yield paths
    job = jobs.current(paths["runs"])
    if job is not None and job.running:
        jobs.cancel(paths["runs"])


def start_app(**query) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params.update(query)
    return at.run()


def digit_url(at: AppTest) -> str:
    return at.image[0].value[0]


def pad(at: AppTest) -> dict:
    """What the page's sliders-and-digit component was sent this run: z, moves, the decoder's digest."""
    return json.loads(next(e.proto.json for e in at.get("bidi_component") if e.key == "pad"))


def sliders(at: AppTest) -> tuple[float, float]:
    return at.session_state["z1"], at.session_state["z2"]


def no_errors(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def test_the_page_gets_the_point_and_the_decoder_of_a_2d_run(roots):
    """The sliders and the digit of a 2-D run live in the browser (tests/test_pad.py checks its decoder,
    tests/e2e the keys); the server sends the point, the slider range and the model."""
    at = start_app(run="runs/a")
    no_errors(at)
    sent = pad(at)
    assert sent["z"] == [0.0, 0.0] and sent["extent"] == 4.0 and sent["step"] == 0.1 and sent["moves"] == 0
    assert "z1" not in [s.key for s in at.slider]  # no server-side sliders: a step would cost a round trip


def test_beyond_two_dimensions_server_sliders_change_the_digit(roots):
    make_run(roots["runs"] / "d3", seed=2, latent_dim=3)
    at = start_app(run="runs/d3")
    no_errors(at)
    assert not at.get("bidi_component")  # no pad for a 3-D code
    origin = digit_url(at)
    at.slider(key="z1").set_value(2.0).run()
    assert digit_url(at) != origin
    assert "2.00" in at.image[0].captions[0]
    at.slider(key="z1").set_value(0.0).run()
    assert digit_url(at) == origin  # the same point decodes to the same picture


def test_picker_switches_runs(roots):
    at = start_app(run="runs/a")
    assert at.selectbox(key="run").value == "runs/a"
    assert set(at.selectbox(key="run").options) == {catalog.describe(n).label for n in ("runs/a", "runs/b")}
    decoder_a = pad(at)["digest"]
    at.selectbox(key="run").set_value("runs/b").run()
    no_errors(at)
    assert "kl_weight **4**" in at.sidebar.caption[0].value
    assert pad(at)["digest"] != decoder_a  # the page is sent the other model's decoder
    assert at.query_params["run"] == "runs/b"


def test_a_hostile_run_name_in_the_url_is_refused_and_the_app_works(roots):
    at = start_app(run="../../etc")
    assert any("not available" in w.value for w in at.sidebar.warning)
    assert at.selectbox(key="run").value in ("runs/a", "runs/b")
    assert pad(at)["digest"]


def test_a_broken_run_is_listed_with_its_reason_and_the_rest_works(roots):
    shutil.copytree(roots["runs"] / "a", roots["runs"] / "broken")
    (roots["runs"] / "broken" / "config.json").write_text("{garbage")
    at = start_app()
    no_errors(at)
    assert "runs/broken" not in at.selectbox(key="run").options
    assert any("config.json is not valid JSON" in m.value for m in at.sidebar.markdown)
    assert pad(at)["digest"]


def test_clicking_a_scatter_point_moves_the_sliders_and_shows_that_digit(roots):
    at = start_app(run="runs/a")
    mean = np.load(roots["runs"] / "a" / "latents.npz")["mean"]
    at.session_state["scatter"] = {"selection": {"points": [{"customdata": 7, "x": 0, "y": 0}], "box": []}}
    at.run()
    no_errors(at)
    assert sliders(at) == pytest.approx(tuple(mean[7]), abs=1e-5)
    assert pad(at)["z"] == pytest.approx(list(mean[7]), abs=1e-5) and pad(at)["moves"] == 1  # the page follows
    assert any("decoded from its mean code" in c for image in at.image for c in image.captions)
    # The fake run's 500 codes are not MNIST's 10,000 test images (and MNIST may be absent): no original, and why.
    assert any("Test image #7 (a 7) is not on this machine" in i.value for i in at.info)


def test_a_box_selection_jumps_to_its_centre(roots):
    at = start_app(run="runs/a")
    box = {"xref": "x", "yref": "y", "x": [1.0, 2.0], "y": [-3.0, -2.0]}
    at.session_state["scatter"] = {"selection": {"points": [], "box": [box]}}
    at.run()
    assert sliders(at) == (1.5, -2.5)
    assert pad(at)["z"] == [1.5, -2.5]


def test_compare_view_shows_both_runs_side_by_side(roots):
    at = start_app(run="runs/a")
    at.toggle(key="compare").set_value(True).run()
    no_errors(at)
    assert (at.selectbox(key="compare_0").value, at.selectbox(key="compare_1").value) == ("runs/a", "runs/b")
    assert [c for image in at.image for c in image.captions].count("15 x 15 latent grid") == 2


def digit_png(mode: str = "L") -> bytes:
    """A hand-drawn-looking 7: dark strokes on white paper, 200 x 200."""
    image = Image.new("L", (200, 200), 255)
    draw = ImageDraw.Draw(image)
    draw.line([(50, 40), (150, 40), (90, 170)], fill=0, width=14)
    buffer = io.BytesIO()
    image.convert(mode).save(buffer, format="PNG")
    return buffer.getvalue()


def test_an_uploaded_digit_is_encoded_and_can_move_the_sliders(roots):
    at = start_app(run="runs/a")
    at.file_uploader(key="upload").set_value(("seven.png", digit_png(), "image/png")).run()
    no_errors(at)
    captions = [c for image in at.image for c in image.captions]
    assert "as MNIST sees it (28 x 28)" in captions and "its reconstruction" in captions
    code = next(m.value for m in at.markdown if m.value.startswith("Code: z = ("))
    z1 = float(code.split("(")[1].split(" ")[0])
    next(b for b in at.button if b.label == "Move the sliders to my digit").click().run()
    assert sliders(at)[0] == pytest.approx(z1, abs=0.006)
    assert pad(at)["z"][0] == pytest.approx(z1, abs=0.006)


@pytest.mark.parametrize(
    "payload, message",
    [(b"this is not an image at all", "not a readable"), (b"", "empty"), (digit_png()[:100], "not a readable")],
)
def test_a_bad_upload_gets_a_message_in_the_page(roots, payload, message):
    at = start_app(run="runs/a")
    at.file_uploader(key="upload").set_value(("digit.png", payload, "image/png")).run()
    assert not at.exception
    assert len(at.error) == 1 and message in at.error[0].value
    at.slider(key="grid_n").set_value(12).run()  # and the app keeps working
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
    return next(b for b in at.button if b.label == "Train")


@pytest.mark.slow
def test_retraining_runs_to_the_end_and_the_run_appears_in_the_picker(roots, mnist_dir):
    at = start_app(run="runs/a")
    at.slider(key="epochs").set_value(1)
    at.selectbox(key="subset").set_value(2_000)
    at.radio(key="kl_preset").set_value(next(k for k in at.radio(key="kl_preset").options if "(4)" in k))
    train_button(at).click().run()
    job = jobs.current(roots["runs"])
    assert job.settings == {"kl_weight": 4.0, "epochs": 1, "subset": 2000}
    train_button(at).click().run()  # a second click is told, not obeyed
    assert any("already running" in w.value for w in at.warning)
    seen = poll(at, roots["runs"], lambda job: not job.running)
    assert "running" in seen and jobs.current(roots["runs"]).status["state"] == "finished"
    assert any(job.name in s.value for s in at.success)
    assert catalog.describe(f"runs/{job.name}").label in at.selectbox(key="run").options
    next(b for b in at.button if b.label == "Open it in the explorer").click().run()
    assert at.selectbox(key="run").value == f"runs/{job.name}"
    assert "kl_weight **4**" in at.sidebar.caption[0].value


@pytest.mark.slow
def test_retraining_can_be_cancelled(roots, mnist_dir):
    at = start_app(run="runs/a")
    at.slider(key="epochs").set_value(50)
    at.selectbox(key="subset").set_value(2_000)
    train_button(at).click().run()
    poll(at, roots["runs"], lambda job: job.status.get("state") == "running")
    next(b for b in at.button if b.label == "Cancel training").click().run()
    poll(at, roots["runs"], lambda job: not job.running)
    assert jobs.current(roots["runs"]).status["state"] == "cancelled"
    assert any("cancelled" in w.value for w in at.warning)


def test_metrics_json_shows_what_it_has_and_survives_what_it_lacks():
    import app

    full = {
        "test": {"neg_elbo": 140.123, "reconstruction": 135.0, "kl": 5.1},
        "iwae": {"k": 1000, "nll": 137.5, "by_k": {"1": 140.1}},
        "exact": {"nll": 137.2},
        "coverage": {"n_digits": 10, "confident_share": 0.83},
        "seconds": {"iwae": 12.0},
    }
    rows = dict(app.metric_rows(full))
    assert rows["test neg elbo"] == "140.12" and rows["IWAE -log p(x), k=1000"] == "137.50"
    assert rows["exact -log p(x) (quadrature)"] == "137.20" and rows["map cells that are clearly a digit"] == "83%"
    assert not any("seconds" in label for label in rows)
    assert app.metric_rows({}) == [] and app.metric_rows({"test": "garbage", "iwae": [1]}) == []


def test_the_digit_map_layer_labels_every_grid_cell(roots):
    """The classifier's reading of the grid, drawn over it: one label per cell, most digits present."""
    import app

    at = start_app()
    at.toggle(key="digit_map").set_value(True).run()
    no_errors(at)
    info = catalog.describe(catalog.list_runs()[0].name)
    labels = app.digit_map(info.name, info.version, 10)
    assert labels is not None, "pretrained/classifier.keras ships with the repository"
    trace = app.digit_map_trace(labels)
    assert len(trace.text) == 100 and labels.labels.shape == (10, 10)
    assert set(labels.labels.ravel()) <= set(range(10))
