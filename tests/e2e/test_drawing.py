"""The drawing pad in Chromium: the code moves while the pen is down, and the server hears the 28x28 on release.

Served from benchmarks/drawpad_page.py (the pad alone, on the default pretrained run), whose
caption says what the server heard and the code Python's encoder gives it.
"""

from __future__ import annotations

import re

import pytest

from tests.appserver import AppServer, ServerError
from tests.helpers import ROOT, arc, skip_or_fail

RUN_DIR = ROOT / "pretrained" / "elbo-kl1"
SEVEN = [(80, 60), (200, 60), (120, 230)]  # in the pad's 280 x 280 CSS pixels
CODE = re.compile(r"z = \((-?\d+\.\d+)[^,]*, (-?\d+\.\d+)")
TIMEOUT_MS = 60_000  # the machine is shared: a rerun can take a while


@pytest.fixture(scope="module")
def pad_url() -> str:
    if not RUN_DIR.exists():
        skip_or_fail(f"{RUN_DIR} is missing: the shipped pretrained run is needed")
    server = AppServer("benchmarks/drawpad_page.py", script_args=(RUN_DIR,))
    try:
        server.start()
    except ServerError as err:
        pytest.fail(str(err))
    try:
        yield server.base_url
    finally:
        server.stop()


@pytest.fixture
def open_pad(browser, pad_url, request):
    """open_pad(**context options) -> a page with the pad ready (both networks arrived)."""
    contexts = []

    def open_(**options):
        context = browser.new_context(**options)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.goto(pad_url)
        readout(page).filter(has_text="draw a digit").wait_for()  # the models are here: no "loading"
        return page

    yield open_
    for context in contexts:
        context.close()


def readout(page):
    return page.locator(".drawpad .readout")


def server_heard(page) -> str:
    return page.get_by_text("server heard").inner_text()


def code_of(text: str) -> tuple[float, float]:
    match = CODE.search(text)
    assert match, f"no code in {text!r}"
    return float(match.group(1)), float(match.group(2))


def points_along(stroke, steps_per_segment: int = 12):
    for (ax, ay), (bx, by) in zip(stroke, stroke[1:], strict=False):
        for step in range(1, steps_per_segment + 1):
            t = step / steps_per_segment
            yield ax + (bx - ax) * t, ay + (by - ay) * t


def shoot(page, request, name: str) -> None:
    folder = ROOT / "tests" / "e2e" / "screenshots"
    folder.mkdir(exist_ok=True)
    page.screenshot(path=folder / f"{request.node.name}-{name}.png")


def test_a_seven_drawn_with_the_mouse_moves_the_code_before_release_and_the_server_hears_it(open_pad, request):
    page = open_pad(viewport={"width": 1100, "height": 900})
    canvas = page.get_by_label("draw a digit")
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + SEVEN[0][0], box["y"] + SEVEN[0][1])
    page.mouse.down()
    codes = []
    for x, y in points_along(SEVEN):
        page.mouse.move(box["x"] + x, box["y"] + y)
        codes.append(readout(page).inner_text())
    shoot(page, request, "mid-stroke")
    assert server_heard(page) == "server heard: nothing"  # the button is still down: all of this is the page's
    moving = [code_of(text) for text in codes if text.startswith("z = (")]
    assert len(set(moving)) >= 3, f"the code did not move while drawing: {codes}"

    page.mouse.up()
    page.get_by_text("server heard: 784 values").wait_for()
    shoot(page, request, "released")
    page_z, server_z = code_of(readout(page).inner_text()), code_of(server_heard(page))
    assert max(abs(a - b) for a, b in zip(page_z, server_z, strict=True)) <= 0.011  # two decimals either side


def heard_next(page, previous: str) -> str:
    """What the server heard next, once it differs from previous."""
    from playwright.sync_api import expect

    caption = page.get_by_text("server heard")
    expect(caption).not_to_have_text(previous, timeout=TIMEOUT_MS)
    return caption.inner_text()


def test_undo_takes_back_the_last_stroke_and_clear_empties_the_pad(open_pad):
    page = open_pad(viewport={"width": 1100, "height": 900})
    box = page.get_by_label("draw a digit").bounding_box()
    heard = [server_heard(page)]
    for stroke in [[(150, 40), (70, 160), (200, 160)], [(180, 100), (180, 250)]]:  # a 4
        page.mouse.move(box["x"] + stroke[0][0], box["y"] + stroke[0][1])
        page.mouse.down()
        for x, y in points_along(stroke):
            page.mouse.move(box["x"] + x, box["y"] + y)
        page.mouse.up()
        heard.append(heard_next(page, heard[-1]))
    page.locator(".drawpad .undo").click()
    heard.append(heard_next(page, heard[-1]))
    one_stroke, two_strokes, undone = heard[1:]
    assert undone == one_stroke != two_strokes  # the same 28x28 and code as before the second stroke
    page.locator(".drawpad .clear").click()
    assert heard_next(page, heard[-1]) == "server heard: nothing"
    assert readout(page).inner_text().startswith("draw a digit")


def test_a_phone_draws_with_a_finger(open_pad, request):
    page = open_pad(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True, device_scale_factor=3)
    canvas = page.get_by_label("draw a digit")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390, f"the pad does not fit the phone's width: {box}"
    cdp = page.context.new_cdp_session(page)

    def touch(kind: str, x: float | None = None, y: float | None = None) -> None:
        points = [] if x is None else [{"x": box["x"] + x, "y": box["y"] + y}]
        cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})

    stroke = [SEVEN[0], *arc(140, 140, 60, 95, -90, 270, n=12)]  # a 0, started at its top
    scrolled = page.evaluate("window.scrollY")
    touch("touchStart", *stroke[0])
    codes = []
    for x, y in points_along(stroke, 3):
        touch("touchMove", x, y)
        codes.append(readout(page).inner_text())
    shoot(page, request, "mid-stroke")
    assert page.evaluate("window.scrollY") == scrolled, "the finger scrolled the page instead of drawing"
    assert len({code_of(text) for text in codes if text.startswith("z = (")}) >= 3, codes
    assert server_heard(page) == "server heard: nothing"
    touch("touchEnd")
    page.get_by_text("server heard: 784 values").wait_for()
    shoot(page, request, "released")


def test_in_the_app_a_drawn_seven_puts_its_star_on_the_map_after_release(page, request):
    """The explorer itself (the `page` fixture: app.py): the code moves while drawing, and once the pen is up
    the server's map shows the drawing's star where the page put its code."""
    canvas = page.get_by_label("draw a digit")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    scale = box["width"] / 280  # the stroke in the pad's own proportions, whatever its size here
    page.mouse.move(box["x"] + SEVEN[0][0] * scale, box["y"] + SEVEN[0][1] * scale)
    page.mouse.down()
    codes = []
    for x, y in points_along(SEVEN):
        page.mouse.move(box["x"] + x * scale, box["y"] + y * scale)
        codes.append(readout(page).inner_text())
    assert len({code_of(text) for text in codes if text.startswith("z = (")}) >= 3, codes
    page.mouse.up()
    page_z = code_of(readout(page).inner_text())
    star = page.wait_for_function(
        """() => { for (const gd of document.querySelectorAll('[class*="st-key-scatter"] .js-plotly-plot'))
                     for (const t of gd._fullData || []) if (t.meta === 'star' && t.x.length) return [t.x[0], t.y[0]];
                   return null; }""",
        timeout=TIMEOUT_MS,
    ).json_value()
    shoot(page, request, "star")
    assert max(abs(a - b) for a, b in zip(page_z, star, strict=True)) <= 0.011
