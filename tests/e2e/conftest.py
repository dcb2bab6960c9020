"""Browser tests: Debian's Chromium, driven by Playwright, against a real `streamlit run app.py`.

One server for the whole session (tests.appserver.AppServer: its first page loads the
model, which on a loaded machine takes a while); every test opens a fresh browser context,
which is a fresh Streamlit session on the default pretrained run. The server gets a runs/
folder of its own, so nothing a test does can write into the repository's runs/.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.appserver import CHROMIUM, AppServer, ServerError, launch_chromium
from tests.helpers import skip_or_fail

CHROMIUM_ARGS = (
    "--disable-gpu",
    "--disable-background-networking",  # offline machines: no update or safe-browsing fetches that hang
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
SCREENSHOTS = Path(__file__).parent / "screenshots"
STARTUP_TIMEOUT_S = 180  # until /_stcore/health answers; the first page's model load comes on top
FIRST_LOAD_TIMEOUT_MS = 180_000
STEP_TIMEOUT_MS = 30_000  # one rerun; generous because the test machine is shared and often loaded


@pytest.fixture(scope="session")
def app_runs_dir(tmp_path_factory) -> Path:
    """The runs/ folder of the app the browser tests drive (empty at start; a test may copy a run in)."""
    return tmp_path_factory.mktemp("runs")


@pytest.fixture(scope="session")
def app_url(app_runs_dir) -> str:
    """The URL of `streamlit run app.py` on a free port, up for the whole session."""
    runs_dir = app_runs_dir
    server = AppServer(runs_dir=runs_dir, log=runs_dir.parent / "streamlit.log", startup_timeout_s=STARTUP_TIMEOUT_S)
    try:
        server.start()
    except ServerError as err:
        pytest.fail(f"streamlit did not come up on port {server.port}: {err}")
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        skip_or_fail(f"{CHROMIUM} not found: install Debian's chromium (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_or_fail("the playwright package is not installed (pip install -r requirements.txt)")
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright, *CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, app_url):
    """A fresh session on the app, once the decoded digit is on screen."""
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1500, "height": 1100})
    page = context.new_page()
    page.set_default_timeout(STEP_TIMEOUT_MS)
    expect.set_options(timeout=STEP_TIMEOUT_MS)
    page.goto(app_url)
    # the digit is drawn once the page has the decoder: the line under it then names its point
    page.locator(".pad .readout").filter(has_text="decoder(z").wait_for(timeout=FIRST_LOAD_TIMEOUT_MS)
    yield page
    context.close()


@pytest.fixture
def screenshot(request, page):
    """screenshot(name=""): the visible page now, as screenshots/<test name>[-name].png."""
    SCREENSHOTS.mkdir(exist_ok=True)

    def take(name: str = "") -> Path:
        path = SCREENSHOTS / f"{request.node.name}{'-' + name if name else ''}.png"
        page.screenshot(path=path)
        return path

    return take


@pytest.fixture
def open_page(browser, app_url):
    """open_page(width, height, query="", **context): a fresh session in a viewport of that size (context
    options such as has_touch), scrolled to the top once the digit is drawn; closed after the test."""
    contexts = []

    def opened(width: int, height: int, query: str = "", **context):
        contexts.append(browser.new_context(viewport={"width": width, "height": height}, **context))
        page = contexts[-1].new_page()
        page.goto(app_url + query)
        page.locator(".pad .readout").filter(has_text="decoder(z").wait_for(timeout=FIRST_LOAD_TIMEOUT_MS)
        page.evaluate("window.scrollTo(0, 0)")
        return page

    yield opened
    for context in contexts:
        context.close()


@pytest.fixture
def shoot():
    """shoot(page, name): the visible page as screenshots/<name>.png."""

    def take(page, name: str) -> Path:
        SCREENSHOTS.mkdir(exist_ok=True)
        page.screenshot(path=SCREENSHOTS / f"{name}.png")
        return SCREENSHOTS / f"{name}.png"

    return take
