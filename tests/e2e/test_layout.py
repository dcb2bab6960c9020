"""The page on a projector and a phone, in Chromium: what is on screen together, how large, nothing cut off."""

import pytest

PROJECTORS = [(1280, 720), (1920, 1080)]


def box(page, selector):
    return page.locator(selector).first.bounding_box()


def on_screen(rect, width, height) -> bool:
    return (
        rect["x"] >= 0
        and rect["y"] >= 0
        and rect["x"] + rect["width"] <= width
        and rect["y"] + rect["height"] <= height
    )


def overlaps(a, b) -> bool:
    return not (a["x"] + a["width"] <= b["x"] or b["x"] + b["width"] <= a["x"] or
                a["y"] + a["height"] <= b["y"] or b["y"] + b["height"] <= a["y"])  # fmt: skip


@pytest.mark.parametrize("width, height", PROJECTORS)
def test_the_default_page_shows_the_digit_and_the_plane_together_without_scrolling(open_page, shoot, width, height):
    page = open_page(width, height)
    digit, plane = box(page, ".pad .digit"), box(page, ".pad .plane")
    shoot(page, f"layout-default-{width}x{height}")
    assert on_screen(digit, width, height) and on_screen(plane, width, height), (digit, plane)
    assert not overlaps(digit, plane)


@pytest.mark.parametrize("width, height", PROJECTORS)
def test_the_presenter_view_is_large_enough_for_the_back_row(open_page, shoot, width, height):
    page = open_page(width, height, "?present=1")
    digit, plane = box(page, ".pad .digit"), box(page, ".pad .plane")
    shoot(page, f"layout-present-{width}x{height}")
    assert digit["height"] >= 0.4 * height, digit
    assert on_screen(digit, width, height) and on_screen(plane, width, height) and not overlaps(digit, plane)
    assert not page.locator('[data-testid="stSidebar"]').is_visible()
    smallest = page.evaluate(
        """() => Math.min(...[...document.querySelectorAll('h3, .pad label, .pad .legend span')]
             .filter((e) => e.offsetParent).map((e) => parseFloat(getComputedStyle(e).fontSize)))"""
    )
    assert smallest >= 24 * 0.85, smallest  # headings and labels at least the 24 px body text (legend 0.85 em)
    buttons = page.locator(".st-key-present-controls button")
    for i in range(buttons.count()):  # every shortcut's label whole, none cut off
        assert buttons.nth(i).evaluate("(b) => b.scrollWidth <= b.clientWidth + 1"), buttons.nth(i).inner_text()


def test_on_a_phone_the_digit_and_the_plane_stack(open_page, shoot):
    page = open_page(390, 844, has_touch=True, is_mobile=True)
    digit, plane = box(page, ".pad .digit"), box(page, ".pad .plane")
    shoot(page, "layout-phone-390x844")
    assert plane["y"] >= digit["y"] + digit["height"] - 1 or plane["x"] >= digit["x"] + digit["width"] - 1
    assert digit["x"] >= 0 and digit["x"] + digit["width"] <= 390 and plane["x"] + plane["width"] <= 390
