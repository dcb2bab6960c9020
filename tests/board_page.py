"""What the class board's browser tests and load script find and press in the page, in one place.

tests/e2e/test_board.py, tests/e2e/test_two_servers.py and tests/stress/board_load.py drive a
student's explorer page (draw a digit or open a picture on the pad, pick the digit meant, send) and watch a board page.
The texts come from the app's English catalogue, so a reworded label changes them here too.

The board page is watched in its own clock-independent way: WATCH_BOARD_JS records, for every
submission id that appears in the map's plotly data (the "submissions" trace's customdata), the
wall-clock time (Date.now(), milliseconds) it first appeared; the store's Submission.time is the
server's wall clock when the digit arrived. Both clocks are this machine's, so their difference is
the time from send to visible on the board.
"""

from __future__ import annotations

from vae.ui.i18n import t

BOARD_PATH = "board"  # the board page's url_path (app.py's PAGES)
CANVAS = f'[aria-label="{t("drawpad.canvas", lang="en")}"]'
PAD_READY_TEXT = t("drawpad.empty", lang="en")  # the drawing pad's readout once its networks arrived
PICTURE_INPUT = ".drawpad input.file"  # behind the pad's Open an image button: set_input_files opens a picture
PILLS = '[data-testid="stButtonGroup"] button'
SEND_LABEL = t("board.send", lang="en")
PAD_SIDE = 280  # the drawing canvas's CSS size, which the strokes below are written for
SEVEN = [(80, 60), (200, 60), (120, 230)]  # one stroke: a 7
ONE = [(140, 40), (140, 240)]
# Scroll an element to the middle of the window: at the top edge Streamlit's header lies over it and takes the pen.
CENTRE_JS = "(element) => element.scrollIntoView({block: 'center'})"


def sent_text(digit: int) -> str:
    return t("board.sent", lang="en", digit=digit)


def along(stroke: list[tuple[float, float]], box: dict, steps_per_segment: int = 8) -> list[tuple[float, float]]:
    """Page coordinates along a stroke written for a PAD_SIDE canvas, scaled to the canvas's bounding box."""
    scale = box["width"] / PAD_SIDE
    points = [stroke[0]]
    for (ax, ay), (bx, by) in zip(stroke, stroke[1:], strict=False):
        points += [(ax + (bx - ax) * i / steps_per_segment, ay + (by - ay) * i / steps_per_segment)
                   for i in range(1, steps_per_segment + 1)]  # fmt: skip
    return [(box["x"] + x * scale, box["y"] + y * scale) for x, y in points]


# Install once in a board page: window.__seen[id] = Date.now() when a submission id first shows in the map.
# A timer, not requestAnimationFrame: a headless page that is not painted stalls rAF.
WATCH_BOARD_JS = """() => {
  window.__seen = {};
  window.__loadedOnce = true;  // a reload would drop it: the board updates without one
  const scan = () => {
    for (const chart of document.querySelectorAll('.js-plotly-plot')) {
      for (const trace of chart.data || []) {
        if (trace.meta !== 'submissions') continue;
        for (const id of trace.customdata || []) if (!(id in window.__seen)) window.__seen[id] = Date.now();
      }
    }
  };
  scan();
  setInterval(scan, 25);
}"""
SEEN_JS = "() => window.__seen"
STILL_LOADED_JS = "() => window.__loadedOnce === true"
# The map has been drawn (plotly.js loaded and the board's figure is in the page).
BOARD_READY_JS = """() => [...document.querySelectorAll('.js-plotly-plot')]
  .some((chart) => (chart.data || []).some((trace) => trace.meta === 'submissions'))"""
SEEN_ID_JS = "(id) => id in window.__seen"
