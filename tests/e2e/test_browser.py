"""What a student sees in Chromium: the digit, the sliders, the map, an upload, the run picker.

Widgets are found the way a user finds them, by their labels (the sliders' aria-labels z1 and
z2, the digit by the "decoder(z = ...)" line under it), never by their position on the page,
so panels can be added or moved without breaking these tests. The labels are read from the
app's own English catalogue (vae/ui/locales/en.toml), so rewording a caption does not break them
either. The sliders and the digit of a 2-D run are drawn by the page itself (vae/pad.py), so the
digit is a canvas, not an <img>.
"""

from __future__ import annotations

import functools
import re

import numpy as np
import pytest
from PIL import Image

from tests.board_page import CANVAS, PAD_READY_TEXT, PICTURE_INPUT
from tests.helpers import CODE_TOLERANCE, PHOTO_FLAWS, digit_photo, digit_png, draw_digit, find_run, image_bytes
from vae.limits import MAX_UPLOAD_BYTES
from vae.ui.figures import MARKER_NAME
from vae.ui.i18n import t

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture says so: a skip here, a failure in CI (importorskip would pass CI)
    expect = None

pytestmark = pytest.mark.e2e


def photo_of_a_digit() -> Image.Image:
    """A phone's photo of a pen-drawn 4 with every flaw of tests.helpers.PHOTO_FLAWS, slightly tinted (RGB)."""
    four = 255 - np.asarray(draw_digit(size=(200, 200), box=(40, 20, 160, 180)))
    photo, box = digit_photo(four, side=600)
    grey = np.clip(PHOTO_FLAWS["all of them"](photo, box) * 255, 0, 255).astype(np.uint8)
    return Image.fromarray(np.stack([grey, grey, (grey * 0.93).astype(np.uint8)], axis=-1), mode="RGB")


IMAGE = '[data-testid="stImage"]'
EXCEPTION = '[data-testid="stException"]'


def digit(page):
    """The decoded digit under the sliders: a canvas the page draws with its own copy of the decoder."""
    return page.locator(".pad canvas.digit")


def digit_pixels(page) -> str:
    return digit(page).evaluate("(canvas) => canvas.toDataURL()")


def expect_point(page, z1: float, z2: float) -> None:
    """The digit drawn for (z1, z2): the line under it names the point it was decoded from."""
    expect(page.locator(".pad .readout")).to_have_text(f"decoder(z = ({z1:.2f}, {z2:.2f}))")


def expect_drawn(page) -> None:
    expect(page.locator(".pad .readout")).to_have_text(re.compile(r"^decoder\(z = "))


def captioned_image(page, caption: str):
    return page.locator(IMAGE).filter(has_text=caption).locator("img")


def slider(page, label: str):
    return page.locator(f'.pad input[type="range"][aria-label="{label}"]')


def point(page) -> tuple[float, float]:
    """The point the digit was drawn for (the sliders' own value snaps to their 0.1 steps)."""
    z1, z2 = re.findall(r"-?\d+\.\d+", page.locator(".pad .readout").inner_text())
    return float(z1), float(z2)


def expect_no_exception(page) -> None:
    expect(page.locator(EXCEPTION)).to_have_count(0)


def expect_loaded(image) -> None:
    """The <img> has fetched and decoded its picture, not just got a src."""
    expect(image).to_be_visible()
    image.page.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=image.element_handle())


def press_right(page, label: str, times: int) -> None:
    """Keyboard steps on a slider: each ArrowRight is one step, drawn at once and then sent to the server."""
    slider(page, label).focus()
    for _ in range(times):
        page.keyboard.press("ArrowRight")


def upload(page, name: str, data: bytes, mime: str = "image/png") -> None:
    """A picture opened on the drawing pad (its Open an image button's file input), once its networks are here."""
    expect(page.locator(".drawpad .readout")).to_have_text(PAD_READY_TEXT)
    page.locator(PICTURE_INPUT).set_input_files(files=[{"name": name, "mimeType": mime, "buffer": data}])


# Plotly keeps its axes on the chart's <div>: l2p/p2l convert between data and pixels from the axis's own
# start (_offset: the margin, plus the inset of an axis constrained to a square domain).
DATA_TO_SCREEN_JS = """(gd, [x, y]) => {
  const L = gd._fullLayout, box = gd.getBoundingClientRect();
  return [box.left + L.xaxis._offset + L.xaxis.l2p(x), box.top + L.yaxis._offset + L.yaxis.l2p(y)];
}"""
SCREEN_TO_DATA_JS = """(gd, [px, py]) => {
  const L = gd._fullLayout, box = gd.getBoundingClientRect();
  return [L.xaxis.p2l(px - box.left - L.xaxis._offset), L.yaxis.p2l(py - box.top - L.yaxis._offset)];
}"""
# The test digit farthest from the origin within |z| < 3.5: a dot alone in its neighbourhood, so a click there
# cannot pick up a neighbour instead.
LONELY_DOT_JS = """(gd) => {
  let best = null;
  for (const trace of gd._fullData) {
    if (!trace.customdata) continue;  // only the ten digit traces carry test-set rows
    for (let i = 0; i < trace.x.length; i++) {
      const x = trace.x[i], y = trace.y[i], r = x * x + y * y;
      if (Math.abs(x) < 3.5 && Math.abs(y) < 3.5 && (!best || r > best.r)) best = {x, y, r, row: trace.customdata[i]};
    }
  }
  return best;
}"""


MAP = ".st-key-scatter-0"  # the map's chart: key "scatter" of the page's first generation (vae.ui.widgets.fresh)


def scatter(page):
    """The latent map: the plotly chart the app made (Streamlit adds the st-key-* class)."""
    return page.locator(f"{MAP} .js-plotly-plot")


def test_page_loads_with_a_digit(page, screenshot):
    expect(page.get_by_role("heading", name=t("frame.title", lang="en"))).to_be_visible()
    expect_point(page, 0, 0)
    box = digit(page).bounding_box()
    assert box["width"] >= 200 and box["height"] >= 200, f"the digit is drawn small: {box}"
    assert float(slider(page, "z1").input_value()) == float(slider(page, "z2").input_value()) == 0
    expect(scatter(page)).to_be_visible()
    expect_no_exception(page)
    screenshot()


def test_keyboard_on_a_slider_changes_the_digit_and_the_server_hears_it(page, screenshot):
    expect_drawn(page)
    before = digit_pixels(page)
    press_right(page, "z1", 5)
    expect_point(page, 0.5, 0)
    assert digit_pixels(page) != before
    # The server got the point when the steps ended: the map, redrawn, puts its cross there.
    page.wait_for_function(  # the chart's element is replaced when it is redrawn: look it up each time
        """([map, marker]) => [...document.querySelectorAll(map + ' .js-plotly-plot')].some((gd) =>
          (gd._fullData || []).some((t) => t.name === marker && Math.abs(t.x[0] - 0.5) < 1e-6))""",
        arg=[MAP, MARKER_NAME],
    )
    expect_point(page, 0.5, 0)  # the rerun did not pull the page's point back
    expect_no_exception(page)
    screenshot()


def drag_box(page, chart, corners: tuple[tuple[float, float], tuple[float, float]]) -> tuple[float, float]:
    """Drag a box over the map between two corners given as shares of the plot area; return its centre in z."""
    area = chart.locator(".nsewdrag").first.bounding_box()  # the plot area, where a drag selects
    start, end = ((area["x"] + fx * area["width"], area["y"] + fy * area["height"]) for fx, fy in corners)
    (x0, y0), (x1, y1) = (chart.evaluate(SCREEN_TO_DATA_JS, corner) for corner in (start, end))
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move(*end, steps=10)
    page.mouse.up()
    return (x0 + x1) / 2, (y0 + y1) / 2


def test_box_select_on_the_map_moves_the_point_to_its_centre_again_and_again(page, screenshot):
    """The box tool, once picked, stays picked after a box: a second box moves the point again."""
    chart = scatter(page)
    # The modebar shows while the pointer is over the chart; hover its corner, not the 10,000 WebGL dots.
    chart.hover(position={"x": 5, "y": 5})
    page.locator(MAP).get_by_role("button", name="Box Select").click()
    for corners in (((0.70, 0.15), (0.85, 0.30)), ((0.15, 0.70), (0.30, 0.85))):  # upper right, then lower left
        before = point(page)
        centre = drag_box(page, scatter(page), corners)
        expect(page.locator(".pad .readout")).not_to_have_text(f"decoder(z = ({before[0]:.2f}, {before[1]:.2f}))")
        # While the rerun lands, Streamlit briefly shows the old map (with the drawn box) under the new one.
        expect(page.locator(MAP)).to_have_count(1)
        # within 0.05 (about 2 px): plotly rounds the drag to whole pixels
        assert point(page) == pytest.approx(centre, abs=0.05)
        expect_point(page, *point(page))
    screenshot()
    expect_no_exception(page)


def test_clicking_a_dot_moves_the_sliders_to_that_test_digit(page, screenshot):
    chart = scatter(page)
    dot = chart.evaluate(LONELY_DOT_JS)
    x, y = chart.evaluate(DATA_TO_SCREEN_JS, [dot["x"], dot["y"]])
    page.mouse.move(x, y)  # hover first, as a hand does: plotly picks the point under the pointer
    page.mouse.click(x, y)
    expect_point(page, dot["x"], dot["y"])
    expect_loaded(captioned_image(page, t("map.decoded_mean", lang="en")))  # the picked digit's reconstruction
    expect(page.get_by_text(f"#{dot['row']} ").first).to_be_visible()  # the test image itself, or why it is not here
    expect_no_exception(page)
    screenshot()


@functools.cache
def default_model():
    from vae.inference import NumpyVAE

    return NumpyVAE.load(find_run() / "model.keras")  # the run the app server shows


def python_code(data: bytes) -> np.ndarray:
    """The shipped default run's mean code of a picture file, made MNIST-like by Python (vae.images)."""
    from vae.images import digit_from_upload

    digit, _, _ = digit_from_upload(data)
    return default_model().encode(digit.reshape(1, -1))[0][0]


@pytest.mark.parametrize(
    "name, data, mime",
    [
        ("four.png", digit_png(), "image/png"),
        ("photo.jpg", image_bytes(photo_of_a_digit(), "JPEG", quality=85), "image/jpeg"),  # shadow, specks, lines
        ("four.bmp", image_bytes(draw_digit(), "BMP"), "image/bmp"),
        ("four.webp", image_bytes(draw_digit(), "WEBP", lossless=True), "image/webp"),
        ("four.gif", image_bytes(draw_digit(), "GIF"), "image/gif"),
    ],
    ids=["png", "jpeg-photo", "bmp", "webp", "gif"],
)
def test_upload_shows_its_encoding(page, screenshot, name, data, mime):
    upload(page, name, data, mime)
    # the page made it MNIST-like and encoded it: the pad's own code, before the server has heard anything
    pad_code = page.locator(".drawpad .readout").filter(has_text=re.compile(r"z = \("))
    expect(pad_code).to_be_visible()
    code = page.get_by_text(re.compile(r"^Code: z = \(-?\d+\.\d+ ± "))  # the server's code of the 28x28 it heard
    expect(code).to_be_visible()
    m1, _, m2, _ = (float(v) for v in re.findall(r"-?\d+\.\d+", code.inner_text())[:4])
    pad_z = [float(v) for v in re.findall(r"-?\d+\.\d+", pad_code.inner_text())[:4:2]]  # z1 ± s1, z2 ± s2
    assert pad_z == pytest.approx([m1, m2], abs=0.011)
    # Chromium's decoder and the page's preprocessing against Pillow's and vae.images on the same file
    assert [m1, m2] == pytest.approx(python_code(data).tolist(), abs=CODE_TOLERANCE + 0.005)  # 2 decimals shown
    # the gold star and its 1-sigma ellipse on the map
    page.wait_for_function(  # the chart is replaced when it is redrawn: look it up each time
        """([map, star]) => [...document.querySelectorAll(map + ' .js-plotly-plot')].some((gd) =>
          (gd._fullData || []).some((t) => t.name === star && t.x.length))""",
        arg=[MAP, t("figures.your_digit", lang="en")],
    )
    scatter(page).last.scroll_into_view_if_needed()
    screenshot("map")
    page.get_by_role("button", name=t("own.move_here", lang="en")).click()
    expect_point(page, m1, m2)
    expect_no_exception(page)
    page.get_by_role("heading", name=t("own.header", lang="en")).scroll_into_view_if_needed()
    screenshot()


# A file dropped on an element, as a file manager drops it: a DataTransfer holding the file.
DROP_JS = """(element, [bytes, name, type]) => {
  const transfer = new DataTransfer();
  transfer.items.add(new File([new Uint8Array(bytes)], name, { type }));
  element.dispatchEvent(new DragEvent("drop", { dataTransfer: transfer, bubbles: true, cancelable: true }));
}"""


def test_an_animation_is_read_from_its_first_frame_with_a_note(page):
    frames = [draw_digit(), Image.new("L", (300, 200), 235)]  # a 4, then blank paper
    gif = image_bytes(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=200, loop=0)
    upload(page, "four.gif", gif)
    expect(page.locator(".drawpad .note")).to_contain_text("several frames")
    expect(page.locator(".drawpad .readout")).to_have_text(re.compile(r"^z = \("))  # the 4 was read
    assert float(page.locator(".drawpad .readout").inner_text().split("(")[1].split(" ")[0]) == pytest.approx(
        python_code(gif)[0], abs=CODE_TOLERANCE + 0.005
    )


def test_a_picture_dropped_on_the_pad_is_opened(page):
    expect(page.locator(".drawpad .readout")).to_have_text(PAD_READY_TEXT)
    page.locator(CANVAS).evaluate(DROP_JS, [list(digit_png()), "four.png", "image/png"])
    expect(page.locator(".drawpad .readout")).to_have_text(re.compile(r"^z = \("))  # its code, in the page
    expect(page.get_by_text(re.compile(r"^Code: z = \("))).to_be_visible()  # and the server heard its 28x28
    expect_no_exception(page)


@pytest.mark.parametrize(
    "data, said",
    [
        (b"these are lecture notes, not a picture\n" * 20, "not a readable"),
        (b"\x89PNG\r\n\x1a\n" + bytes(40), "not a readable"),  # a PNG's signature, then nothing a decoder reads
        (b"\x89PNG\r\n\x1a\n" + bytes(MAX_UPLOAD_BYTES), "the limit is 5 MB"),
        (image_bytes(Image.new("L", (200, 200), 128), "PNG"), "No digit found"),
    ],
    ids=["not-an-image", "broken-png", "too-large", "flat-grey"],
)
def test_a_bad_picture_gets_a_message_on_the_pad_and_the_page_keeps_working(page, screenshot, data, said):
    upload(page, "picture.png", data)
    note = page.locator(".drawpad .note.refused")
    expect(note).to_contain_text(said)
    expect(page.locator(".drawpad .readout")).to_have_text(PAD_READY_TEXT)  # nothing taken
    expect_no_exception(page)
    note.scroll_into_view_if_needed()
    screenshot()
    before = digit_pixels(page)
    press_right(page, "z2", 3)
    expect_point(page, 0, 0.3)
    assert digit_pixels(page) != before
    expect_no_exception(page)


def test_model_picker_switches_runs(page, screenshot):
    expect_drawn(page)
    default_pixels = digit_pixels(page)
    picker = page.get_by_role("combobox", name=t("sidebar.run", lang="en"))
    expect(picker).to_have_value(re.compile("elbo-kl1"))
    picker.click()
    page.get_by_role("option", name=re.compile("beta-kl4")).click()
    expect(picker).to_have_value(re.compile("beta-kl4"))
    page.wait_for_function(
        "([canvas, before]) => canvas.toDataURL() !== before", arg=[digit(page).element_handle(), default_pixels]
    )  # the same point, drawn by the other model's decoder
    expect_no_exception(page)
    screenshot()
