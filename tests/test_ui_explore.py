"""The explorer's walk and bound panels on the shipped default run, through AppTest."""

import base64
import json

import numpy as np
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.helpers import ROOT
from vae.ui import walk


def plotly_values(field) -> np.ndarray:
    """A trace's x or y as plotly.js receives it: a list, or a typed array (base64 bytes and a dtype)."""
    if isinstance(field, dict):
        return np.frombuffer(base64.b64decode(field["bdata"]), field["dtype"])
    return np.asarray(field)


@pytest.fixture
def explorer(mnist_dir):
    st.cache_data.clear()
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=90).run()


def test_the_walk_decodes_the_line_between_two_digits_and_draws_it_on_the_map(explorer):
    at = explorer
    assert not at.exception
    assert (at.selectbox(key="walk_from-en-0").value, at.selectbox(key="walk_to-en-0").value) == ("digit_4", "digit_9")
    at.slider(key="walk_steps").set_value(7).run()
    start, end, steps = at.session_state[walk.PATH_KEY]
    assert steps == 7 and start.shape == end.shape == (2,)
    spec = json.loads(next(chart for chart in at.get("plotly_chart") if chart.key == "scatter-0").proto.spec)
    path = next(trace for trace in spec["data"] if trace.get("meta") == "path")
    assert len(plotly_values(path["x"])) == 7  # the dashed line on the map, a marker per decoded step
    strip = next(image for image in at.image if any("7 steps" in caption for caption in image.captions))
    assert strip.value[0].startswith("data:image/png;base64,")
    at.selectbox(key="walk_from-en-0").set_value("point").run()
    assert at.session_state[walk.PATH_KEY][0].tolist() == [0.0, 0.0]  # from the point at the origin


def numbers(at: AppTest) -> dict[str, float]:
    table = next(m.value for m in at.markdown if "exact -log p(x)" in m.value)
    found = {}
    for line in table.splitlines()[2:]:
        label, value = (cell.replace("**", "").strip() for cell in line.strip("|").rsplit("|", 1))
        found[label] = float(value)
    return found


def starting(found: dict[str, float], prefix: str) -> float:
    return next(value for label, value in found.items() if label.startswith(prefix))


def test_the_bound_panel_orders_the_three_estimates_for_a_test_digit(explorer):
    at = explorer
    at.selectbox(key="bound_digit-en").set_value("digit_7").run()
    assert not at.exception
    found = numbers(at)
    exact, iwae, elbo = (starting(found, prefix) for prefix in ("exact -log p(x)", "IWAE, k = 1,000", "-ELBO"))
    assert exact <= iwae + 0.1 and iwae <= elbo + 0.1, found  # within Monte-Carlo error
    assert starting(found, "gap") == pytest.approx(elbo - exact, abs=0.02)
    assert any(e.key == "bound_posterior" for e in at.get("plotly_chart"))
