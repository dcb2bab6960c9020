"""The class board in the app, through AppTest: a student's digit reaches the board, the board page shows it with
counts and the 15-NN share, a click shows one digit large, and presenter actions are refused without the key.

AppTest does not tick run_every fragments, so "after a rerun" stands for the board page's next poll; the
poll within 2 s in a real browser is tests/e2e/test_board.py's."""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import streamlit as st
from streamlit import config
from streamlit.testing.v1 import AppTest

from tests.helpers import make_run, page_digit, send_to_pad
from tests.page_text import assert_not_rendered
from vae import catalog, io, jobs, presenter
from vae.board import URL_ENV, Board, BoardLimits, new_session_id
from vae.ui import board, board_view
from vae.ui import presenter as presenter_ui

APP = str(Path(__file__).resolve().parents[1] / "app.py")
BOARD_PAGE = "vae/ui/pages/board.py"
KEY = "lecture-hall-key-not-for-students"
CENTRES = {digit: (3.0 * np.cos(digit * np.pi / 5), 3.0 * np.sin(digit * np.pi / 5)) for digit in range(10)}


def clustered(run_dir: Path) -> Path:
    """A fake run whose test codes sit in ten tight clusters on a circle, digit d at angle d * 36 degrees:
    a code at a cluster's centre is surrounded by that digit only, so the 15-NN vote is known by hand."""
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(10, dtype=np.uint8), 50)
    means = np.array([CENTRES[int(d)] for d in labels]) + rng.normal(0, 0.1, (len(labels), 2))
    io.atomic_save_npz(
        run_dir / "latents.npz", mean=means.astype(np.float32), log_var=np.full((500, 2), -2.0, np.float32),
        labels=labels,
    )  # fmt: skip
    return run_dir


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    base = tmp_path_factory.mktemp("built")
    return {"a": clustered(make_run(base / "a")), "b": make_run(base / "b", kl_weight=4.0, seed=1)}


@pytest.fixture
def hall(roots, built, tmp_path, monkeypatch):
    """Two runs, a board of this test's own (SQLite), fresh caches, a server on loopback; the Board to look at."""
    for name, run_dir in built.items():
        shutil.copytree(run_dir, roots["runs"] / name)
    monkeypatch.setenv(URL_ENV, f"sqlite:///{tmp_path / 'board' / 'board.db'}")
    monkeypatch.setenv(presenter.KEY_ENV, KEY)
    before = config.get_option("server.address")
    config.set_option("server.address", "127.0.0.1")
    st.cache_resource.clear()
    st.cache_data.clear()
    store = Board()
    store.set_run(board.BOARD, "runs/a", known_runs={"runs/a", "runs/b"})
    yield store
    store.close()
    st.cache_resource.clear()  # closes nothing, but no later test finds this test's Board
    config.set_option("server.address", before)
    job = jobs.current(roots["runs"])
    if job is not None and job.running:
        jobs.cancel(roots["runs"])


@pytest.fixture
def students_only(monkeypatch):
    """The server listens beyond loopback: presenter actions need the key."""
    monkeypatch.setattr(presenter, "requires_key", lambda: True)


def board_page(**query) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params.update(query)
    at.run()
    return at.switch_page(BOARD_PAGE).run()


def send(store: Board, digit: int, near: int, session: str | None = None) -> int:
    """A digit meant as ``digit`` whose code sits at the centre of ``near``'s test cluster."""
    mean = np.array(CENTRES[near], np.float32)
    code = (mean, np.full(2, -3.0, np.float32))
    pixels = np.random.default_rng(digit).random((28, 28))
    return store.submit(board.BOARD, session or new_session_id(), digit, pixels, "runs/a", code, known_runs={"runs/a"})


def no_errors(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def table(at: AppTest) -> dict[str, list[str]]:
    """The counts table: {"sent": [10 cells], "landed among its own": [10 cells]}."""
    text = next(m.value for m in at.markdown if m.value.startswith("| digit |"))
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in text.splitlines()]
    return {row[0]: row[1:] for row in rows[2:]}


def submissions_trace(at: AppTest) -> dict:
    spec = json.loads(next(e.proto.spec for e in at.get("plotly_chart")))
    return next(trace for trace in spec["data"] if trace.get("meta") == "submissions")


def array(values) -> np.ndarray:
    """A plotly spec's array: a list, or plotly's {"dtype", "bdata"} (base64) for a numpy array."""
    if isinstance(values, dict):
        return np.frombuffer(base64.b64decode(values["bdata"]), dtype=values["dtype"])
    return np.asarray(values)


def click(at: AppTest, point: dict) -> AppTest:
    """Send the board's map a click as the browser does (a widget state), so its on_select callback runs.
    Pins AppTest internals (_tree, _run) on purpose: AppTest has no plotly widget to drive."""
    chart = next(e for e in at.get("plotly_chart") if e.key == board_view.MAP_KEY)
    states = at._tree.get_widget_states()
    state = states.widgets.add()
    state.id = chart.proto.id
    state.string_value = json.dumps({"selection": {"points": [point], "box": [], "lasso": []}})
    return at._run(states)


# ------------------------------------------------------------------ the board page


def test_submissions_appear_after_a_rerun_with_counts_and_the_landed_share(hall):
    at = board_page()
    no_errors(at)
    assert table(at)["sent"] == ["0"] * 10
    student = "s" * 22
    ids = [send(hall, 4, near=4, session=student), send(hall, 4, near=4), send(hall, 9, near=4)]
    at.run()  # the fragment's next poll
    no_errors(at)
    cells = table(at)
    assert cells["sent"][4] == "2" and cells["sent"][9] == "1" and sum(map(int, cells["sent"])) == 3
    assert cells["landed among its own"][4] == "100%"  # both 4s sit among the test 4s
    assert cells["landed among its own"][9] == "0%"  # a "9" that the encoder put among the 4s
    assert cells["landed among its own"][0] == "–"  # no 0 was sent
    assert any(m.value.startswith("Digits on the board: **3** · browsers that sent one: **3**") for m in at.markdown)
    trace = submissions_trace(at)
    assert trace["customdata"] == ids  # a plain list: a click reports a submission's id back
    assert np.allclose(array(trace["x"]), CENTRES[4][0]) and np.allclose(array(trace["y"]), CENTRES[4][1])
    captions = [c for image in at.image for c in image.captions]
    assert "4: 2 sent (newest first)" in captions and "9: 1 sent (newest first)" in captions


def test_a_click_on_a_submission_shows_it_large_and_a_click_on_a_test_code_does_not(hall):
    sent = send(hall, 4, near=9)
    at = board_page()
    number = next(i for i, t in enumerate(json.loads(at.get("plotly_chart")[0].proto.spec)["data"])
                  if t.get("meta") == "submissions")  # fmt: skip
    at = click(at, {"curve_number": number, "point_number": 0, "point_index": 0, "customdata": sent})
    no_errors(at)
    assert any(m.value == f"**A 4**, digit #{sent}" for m in at.markdown)
    assert any("the encoder read it as a 9" in m.value for m in at.markdown)
    captions = [c for image in at.image for c in image.captions]
    assert {"as sent (28 x 28)", "reconstructed by the board's model"} <= set(captions)
    at = click(at, {"curve_number": 0, "point_number": 3, "point_index": 3, "customdata": 3})
    assert not any(m.value.startswith("**A 4**") for m in at.markdown)


def test_on_loopback_the_presenter_clears_hides_and_picks_the_run_without_a_key(hall):
    first, second = send(hall, 4, near=4), send(hall, 7, near=7)
    at = board_page()
    at.session_state[board_view.PICK_KEY] = first
    at.run()
    at.button(key="board_hide").click().run()
    no_errors(at)
    assert hall.get(first).hidden and table(at)["sent"][4] == "0"
    at.selectbox(key=board_view.RUN_CHOICE_KEY).set_value("runs/b").run()
    at.button(key="board_use_run").click().run()
    assert hall.run(board.BOARD) == "runs/b" and any("runs/b" in m.value for m in at.markdown)
    at.button(key="board_clear").click().run()
    assert hall.all(board.BOARD, include_hidden=True) == [] and table(at)["sent"] == ["0"] * 10
    assert hall.get(second) is None


def forged_click(at: AppTest, key: str) -> AppTest:
    """A click on a button as a crafted page would send it, past AppTest's refusal to touch a disabled widget."""
    button = at.button(key=key)
    states = at._tree.get_widget_states()
    state = states.widgets.add()
    state.id, state.trigger_value = button.proto.id, True
    return at._run(states)


REFUSED = "Refused: only the presenter can do that."


def test_beyond_loopback_presenter_actions_are_refused_until_the_key_is_typed(hall, students_only, monkeypatch):
    first = send(hall, 4, near=4)
    send(hall, 2, near=2)
    at = board_page()
    at.session_state[board_view.PICK_KEY] = first
    at.run()
    assert all(at.button(key=key).disabled for key in ("board_hide", "board_clear", "board_use_run"))
    for key in ("board_hide", "board_clear", "board_use_run"):  # a crafted click on a disabled button
        forged_click(at, key)
        no_errors(at)
    assert not hall.get(first).hidden and len(hall.all(board.BOARD)) == 2 and hall.run(board.BOARD) == "runs/a"

    at.sidebar.text_input(key=presenter_ui.FIELD_KEY).input("a guess").run()
    assert "That is not the presenter key." in [w.value for w in at.sidebar.warning]
    at.sidebar.text_input(key=presenter_ui.FIELD_KEY).input(KEY).run()
    assert_not_rendered(at, KEY)
    assert not at.button(key="board_hide").disabled and not at.button(key="board_clear").disabled

    # Each button drawn for the presenter, then the server's key changed: each callback asks again.
    for key in ("board_hide", "board_clear", "board_use_run"):
        monkeypatch.setenv(presenter.KEY_ENV, KEY)
        at.run()
        monkeypatch.setenv(presenter.KEY_ENV, KEY + "-rotated")
        at.button(key=key).click().run()
        no_errors(at)
        assert REFUSED in [w.value for w in at.warning]
    assert not hall.get(first).hidden and len(hall.all(board.BOARD)) == 2 and hall.run(board.BOARD) == "runs/a"

    monkeypatch.setenv(presenter.KEY_ENV, KEY)
    at.run()
    at.button(key="board_hide").click().run()
    assert hall.get(first).hidden and table(at)["sent"][4] == "0"
    assert_not_rendered(at, KEY)
    at.button(key="board_clear").click().run()
    assert hall.all(board.BOARD, include_hidden=True) == []
    assert_not_rendered(at, KEY)
    at.sidebar.button(key="presenter_lock").click().run()
    assert at.button(key="board_clear").disabled and at.sidebar.text_input(key=presenter_ui.FIELD_KEY).value == ""


def test_beyond_loopback_a_student_cannot_start_training(hall, students_only, roots, monkeypatch):
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("vae/ui/pages/train.py").run()
    assert at.button(key="train").disabled
    assert "Only the presenter can do this: the key goes in the sidebar." in [c.value for c in at.caption]
    forged_click(at, "train")
    at.sidebar.text_input(key=presenter_ui.FIELD_KEY).input(KEY).run()
    assert jobs.current(roots["runs"]) is None
    assert not at.button(key="train").disabled
    monkeypatch.setenv(presenter.KEY_ENV, KEY + "-rotated")  # drawn for the presenter, pressed after the key changed
    at.button(key="train").click().run()
    assert jobs.current(roots["runs"]) is None and at.button(key="train").disabled


def test_the_board_page_in_chinese(hall):
    send(hall, 4, near=4)
    at = board_page(lang="zh")
    no_errors(at)
    assert at.title[0].value == "课堂看板"
    assert any(m.value.startswith("| 数字 |") for m in at.markdown)
    assert submissions_trace(at)["name"] == "同学们的数字"


# ------------------------------------------------------------------ the student's side


def explorer_with_a_digit() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["run"] = "runs/b"  # not the board's run: the board's encoder places the digit
    at.run()
    return send_to_pad(at, {"digit": page_digit()})


def test_a_student_sends_the_digit_they_meant_and_the_store_refuses_a_second_too_soon(hall, monkeypatch):
    slow_hall = Board(hall.url.replace("***", ""), limits=BoardLimits(min_seconds_between=600))  # a loaded test machine
    monkeypatch.setattr(board, "store", lambda: slow_hall)  # takes longer than 2 s between two clicks
    at = explorer_with_a_digit()
    no_errors(at)
    assert at.button(key="board_send").disabled  # no digit picked yet
    at.button_group[0].set_value(4).run()
    at.button(key="board_send").click().run()
    no_errors(at)
    assert [s.value for s in at.success] == ["Sent: your 4 is on the class board."]
    [row] = hall.all(board.BOARD)
    assert row.digit == 4 and row.run == "runs/a" and len(row.session_id) >= 16
    mine = at.session_state[board.SESSION_KEY]
    assert row.session_id == mine
    own = at.session_state["own_digit"]
    board_mean, _ = catalog.open_run(catalog.describe("runs/a")).model.encode(own["digit"].reshape(1, -1))
    assert np.allclose(row.z_mean, board_mean[0], atol=1e-6)  # encoded by the board's run, runs/a ...
    assert not np.allclose(row.z_mean, own["mean"], atol=1e-3)  # ... not by runs/b, which the student looks at
    at.button(key="board_send").click().run()  # at once again: the store's limit, shown as a warning
    assert len(at.warning) == 1 and "one digit every" in at.warning[0].value
    assert len(hall.all(board.BOARD)) == 1
    other = explorer_with_a_digit()  # another browser: an id of its own, so its first digit is not "too soon"
    other.button_group[0].set_value(7).run()
    other.button(key="board_send").click().run()
    assert [s.value for s in other.success] == ["Sent: your 7 is on the class board."]
    assert {row.session_id for row in hall.all(board.BOARD)} == {mine, other.session_state[board.SESSION_KEY]}
    assert other.session_state[board.SESSION_KEY] != mine
    slow_hall.close()
