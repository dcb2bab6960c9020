"""Which explorer panels a change redraws (vae.ui.panels), through AppTest on the shipped default run.

After a callback that names the panels to rerun, AppTest's element tree holds exactly the panels
that were redrawn (a browser keeps the others on screen as they were), so the tree shows the rule.
"""

import json

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.helpers import ROOT, page_digit, send_to_pad
from vae.ui import walk

PANEL_OF = {  # an element each panel always draws, by its key
    ("bidi_component", "pad"): "pad",
    ("plotly_chart", "scatter-0"): "map",
    ("bidi_component", "draw-0"): "own",
    ("selectbox", "walk_from-en-0"): "walk",
    ("selectbox", "bound_digit-en"): "bound",
    ("slider", "grid_n"): "grid",
}


def drawn(at: AppTest) -> set[str]:
    """The panels in the tree of the last run."""
    return {panel for (kind, key), panel in PANEL_OF.items() if any(e.key == key for e in at.get(kind))}


@pytest.fixture
def explorer(mnist_dir):
    st.cache_data.clear()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90).run()
    assert not at.exception and drawn(at) == set(PANEL_OF.values())  # a full run draws every panel
    return at


def own_digit(at: AppTest) -> AppTest:
    """A digit from the pad: a stroke ended, or a picture opened on it (the page sends its 28x28 either way)."""
    return send_to_pad(at, {"digit": page_digit()})


def select_on_map(at: AppTest, row: int) -> AppTest:
    """A click on test digit `row`, sent as the browser sends it (a widget state): AppTest has no plotly widget."""
    chart = next(e for e in at.get("plotly_chart") if e.key == "scatter-0")
    states = at._tree.get_widget_states()
    state = states.widgets.add()
    state.id = chart.proto.id
    state.string_value = json.dumps({"selection": {"points": [{"customdata": row}], "box": [], "lasso": []}})
    return at._run(states)


def test_your_digit_redraws_its_own_panel_and_the_map_not_the_pad_walk_bound_or_grid(explorer):
    at = own_digit(explorer)
    assert not at.exception and drawn(at) == {"own", "map"}
    assert at.session_state["star"] is not None
    code = next(m.value for m in at.markdown if m.value.startswith("Code: z = ("))
    assert float(code.split("(")[1].split(" ")[0]) == pytest.approx(
        float(at.session_state["star"]["mean"][0]), abs=0.006
    )


def test_a_walk_from_your_digit_follows_a_new_digit(explorer):
    at = explorer
    at.selectbox(key="walk_from-en-0").set_value("own").run()
    assert drawn(at) == {"walk", "map"}  # the strip and the path on the map
    assert any("Draw a digit or open a picture of one first" in i.value for i in at.info)  # offered before there is one
    at = own_digit(at.run())
    assert drawn(at) == {"own", "map", "walk"}  # the walk reads your digit now
    start, _, _ = at.session_state[walk.PATH_KEY]
    assert start.tolist() == pytest.approx(at.session_state["star"]["mean"][:2].tolist())


def test_a_click_on_the_map_moves_the_pad_and_the_grid_ring_and_leaves_your_digit_alone(explorer):
    at = select_on_map(explorer, 3)
    assert not at.exception and drawn(at) == {"pad", "map", "grid"}
    at = own_digit(at.run())
    assert drawn(at) == {"own", "map"}
    at.run().selectbox(key="bound_digit-en").set_value("picked").run()
    at = select_on_map(at, 5)
    assert drawn(at) == {"pad", "map", "grid", "bound"}  # the bound shows the picked digit now
