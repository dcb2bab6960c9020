"""The class board in Chromium: a student draws a digit and sends it; the projector's board page, in another
browser context, shows it within 2 s without a reload; a click on it shows it large.

The server gets a board of its own (VAE_BOARD_URL: SQLite in this test's folder), so nothing reaches
the lecture's board beside runs/.
"""

from __future__ import annotations

import re

import pytest

from tests import board_page as bp
from tests.appserver import AppServer, ServerError
from vae.board import URL_ENV, Board

STEP_TIMEOUT_MS = 60_000  # a rerun on a shared, loaded machine
VISIBLE_WITHIN_S = 2.0
# Where the submission with this id is drawn, in page pixels (plotly's own axis mapping).
DIAMOND_JS = """(id) => {
  const chart = [...document.querySelectorAll('.js-plotly-plot')]
    .find((c) => c.data.some((trace) => trace.meta === 'submissions'));
  // _fullData: the arrays as plotly decoded them (the spec sends numpy arrays base64-encoded)
  const trace = chart._fullData.find((t) => t.meta === 'submissions'), i = [...trace.customdata].indexOf(id);
  const layout = chart._fullLayout, box = chart.getBoundingClientRect();
  return [box.left + layout.xaxis._offset + layout.xaxis.l2p(trace.x[i]),
          box.top + layout.yaxis._offset + layout.yaxis.l2p(trace.y[i])];
}"""


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """(server, board store) for this module: the app on a free port with a board of its own."""
    folder = tmp_path_factory.mktemp("board-e2e")
    url = f"sqlite:///{folder / 'board.db'}"
    server = AppServer(runs_dir=folder / "runs", log=folder / "streamlit.log")
    server.env[URL_ENV] = url
    try:
        server.start()
    except ServerError as err:
        pytest.fail(str(err))
    store = Board(url)
    try:
        yield server, store
    finally:
        store.close()
        server.stop()


def open_page(browser, url: str, **context):
    page = browser.new_context(viewport={"width": 1400, "height": 1000}, **context).new_page()
    page.set_default_timeout(STEP_TIMEOUT_MS)
    page.goto(url)
    return page


def draw_and_send(page, stroke, digit: int) -> None:
    """Draw one stroke on the pad, pick the digit meant, press Send; wait until the page says it was sent."""
    page.get_by_text(bp.PAD_READY_TEXT).first.wait_for()
    canvas = page.locator(bp.CANVAS)
    canvas.evaluate(bp.CENTRE_JS)
    points = bp.along(stroke, canvas.bounding_box())
    page.mouse.move(*points[0])
    page.mouse.down()
    for point in points[1:]:
        page.mouse.move(*point)
    page.mouse.up()
    page.locator(bp.PILLS).filter(has_text=re.compile(f"^{digit}$")).click()  # appears once the server heard it
    page.get_by_role("button", name=bp.SEND_LABEL).click()
    page.get_by_text(bp.sent_text(digit)).wait_for()


def test_a_drawn_digit_appears_on_the_board_page_within_two_seconds_without_a_reload(browser, served, request):
    server, store = served
    board = open_page(browser, server.base_url + bp.BOARD_PATH)
    board.wait_for_function(bp.BOARD_READY_JS, timeout=STEP_TIMEOUT_MS, polling=100)
    board.evaluate(bp.WATCH_BOARD_JS)
    student = open_page(browser, server.base_url)

    draw_and_send(student, bp.SEVEN, 7)
    [sent] = [row for row in store.all("default") if row.digit == 7]
    board.wait_for_function(bp.SEEN_ID_JS, arg=sent.id, timeout=STEP_TIMEOUT_MS, polling=50)
    visible_after = board.evaluate(bp.SEEN_JS)[str(sent.id)] / 1000 - sent.time
    print(f"visible on the board {visible_after:.2f} s after the store took it")
    assert board.evaluate(bp.STILL_LOADED_JS), "the board page reloaded"
    assert visible_after <= VISIBLE_WITHIN_S
    board.get_by_text(re.compile(r"^Digits on the board: 1 · browsers that sent one: 1 ·")).wait_for()
    board.screenshot(path=server.runs_dir.parent / f"{request.node.name}.png")

    # A click on the diamond, where plotly drew it, shows it large.
    board.locator(".js-plotly-plot").first.scroll_into_view_if_needed()
    board.mouse.click(*board.evaluate(DIAMOND_JS, sent.id))
    board.get_by_text(f"A 7, digit #{sent.id}").wait_for()
    assert board.locator('[data-testid="stImageCaption"]').filter(has_text="reconstructed by").count() == 1
