"""Browser tests: Debian's Chromium, driven by Playwright, against a real `streamlit run app.py`.

One server for the whole session (its first page imports TensorFlow and loads the model:
tens of seconds on a loaded machine); every test opens a fresh browser context, which is
a fresh Streamlit session on the default pretrained run. The server gets a runs/ folder
of its own, so nothing a test does can write into the repository's runs/.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import ROOT, skip_or_fail

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",  # containers and CI runners often run as root, where Chromium's sandbox refuses to start
    "--disable-gpu",
    "--disable-background-networking",  # offline machines: no update or safe-browsing fetches that hang
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).parent / "screenshots"
STARTUP_TIMEOUT_S = 180  # health check; the first page's TensorFlow import comes on top
FIRST_LOAD_TIMEOUT_MS = 180_000
STEP_TIMEOUT_MS = 30_000  # one rerun; generous because the test machine is shared and often loaded


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def app_url(tmp_path_factory) -> str:
    """The URL of `streamlit run app.py` on a free port, up for the whole session."""
    port = free_port()
    runs_dir = tmp_path_factory.mktemp("runs")
    log_path = runs_dir.parent / "streamlit.log"
    command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true"]
    command += ["--server.port", str(port), "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false"]
    env = os.environ | {"VAE_RUNS_DIR": str(runs_dir)}
    with open(log_path, "wb") as log:
        # A session of its own: the whole group (server and any train.py it started) is stopped at the end.
        server = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"streamlit did not come up on port {port}:\n{log_path.read_text()[-3000:]}")
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}/"
    finally:
        stop(server)


def stop(server: subprocess.Popen) -> None:
    """SIGTERM to the server's process group (Streamlit closes its sessions), SIGKILL after 10 s."""
    for sig, wait_s in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        try:
            os.killpg(server.pid, sig)
        except ProcessLookupError:
            return
        try:
            server.wait(timeout=wait_s)
            return
        except subprocess.TimeoutExpired:
            continue


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        skip_or_fail(f"{CHROMIUM} not found: install Debian's chromium (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_or_fail("the playwright package is not installed (pip install -r requirements.txt)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
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
