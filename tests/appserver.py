"""The app served to a browser under test: `streamlit run` on a free port, started, awaited and stopped here only.

tests/e2e (a pytest fixture), the browser benchmarks (``python -m benchmarks.<name>``) and the
tests/stress scripts all serve the page through AppServer, so they serve it the same way: the
flags below, a runs/ folder of its own (nothing they do writes into the repository's runs/),
and a stop that ends every process the server started, a retrain's train.py included. The
server's CPU time and memory are read for that whole process tree, through psutil. The same
Chromium opens the page everywhere.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import psutil

from tests.helpers import ROOT
from vae.catalog import ROOT_ENV

CHROMIUM = Path("/usr/bin/chromium")  # Debian's package: never `playwright install`
# No browser tab, no reload on file changes (a test edits no source), no usage statistics sent from an offline machine.
STREAMLIT_FLAGS = (
    "--server.headless",
    "true",
    "--server.fileWatcherType",
    "none",
    "--browser.gatherUsageStats",
    "false",
)


class ServerError(RuntimeError):
    """The server exited or never answered its health check; the message ends with its log."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def process_tree(pid: int) -> list[psutil.Process]:
    """pid and every process it started, still running; empty once pid is gone."""
    try:
        parent = psutil.Process(pid)
        return [parent, *parent.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds used so far by pid and its running descendants; 0.0 once pid is gone."""
    total = 0.0
    for process in process_tree(pid):
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:  # ended while we looked
            continue
        total += times.user + times.system
    return total


def rss_mb(pid: int) -> float:
    """Resident memory of pid and its running descendants, in MiB."""
    total = 0
    for process in process_tree(pid):
        try:
            total += process.memory_info().rss
        except psutil.NoSuchProcess:
            continue
    return total / 2**20


class AppServer:
    """`streamlit run <script> [-- script_args]` for the length of a with-block (or start() ... stop()).

    run_dir: the run to show. The catalog then finds it as pretrained/<its name> (VAE_PRETRAINED_DIR
    is its parent folder) and ``url`` opens it; without run_dir the app shows its default run.
    runs_dir: the app's runs/ folder (VAE_RUNS_DIR); by default a new temporary folder.
    ``launched`` and ``healthy`` are time.perf_counter() readings: the command started, and
    /_stcore/health first answered.
    """

    def __init__(
        self,
        script: str = "app.py",
        *,
        script_args: tuple = (),
        run_dir: Path | None = None,
        runs_dir: Path | None = None,
        log: Path | None = None,
        startup_timeout_s: float = 180.0,
    ):
        self.script, self.script_args = script, [str(arg) for arg in script_args]
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}/"
        self.url = self.base_url + (f"?run=pretrained/{Path(run_dir).name}" if run_dir else "")
        self.runs_dir = Path(runs_dir or tempfile.mkdtemp(prefix="appserver-runs-"))
        self.env = os.environ | {ROOT_ENV["runs"]: str(self.runs_dir)}
        if run_dir:
            self.env[ROOT_ENV["pretrained"]] = str(Path(run_dir).resolve().parent)
        self.log = Path(log or tempfile.mkstemp(prefix="appserver-", suffix=".log")[1])
        self.startup_timeout_s = startup_timeout_s
        self.process: psutil.Popen | None = None

    def start(self) -> AppServer:
        command = [sys.executable, "-m", "streamlit", "run", self.script, "--server.port", str(self.port)]
        command += [*STREAMLIT_FLAGS, *(["--", *self.script_args] if self.script_args else [])]
        self.launched = time.perf_counter()
        with open(self.log, "wb") as log:  # a file, not a pipe: a pipe nobody reads fills up and stalls the server
            self.process = psutil.Popen(command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        deadline = self.launched + self.startup_timeout_s
        while True:
            try:
                with urllib.request.urlopen(self.base_url + "_stcore/health", timeout=1):
                    self.healthy = time.perf_counter()
                    return self
            except OSError:
                if self.process.poll() is not None:
                    raise ServerError(
                        f"streamlit exited with code {self.process.returncode}:\n{self.log_tail()}"
                    ) from None
                if time.perf_counter() > deadline:
                    self.stop()
                    raise ServerError(
                        f"streamlit did not answer /_stcore/health within {self.startup_timeout_s:g} s:\n"
                        f"{self.log_tail()}"
                    ) from None
                time.sleep(0.05)

    def stop(self, grace_s: float = 10.0) -> None:
        """Terminate the server and everything it started (Streamlit closes its sessions on SIGTERM);
        kill whatever is still running after grace_s."""
        if self.process is None:
            return
        family: list[psutil.Process] = [self.process]
        try:
            family += self.process.children(recursive=True)
        except psutil.NoSuchProcess:  # it has exited already: what it started is no longer its children
            pass
        for process in family:
            try:
                process.terminate()
            except psutil.NoSuchProcess:
                pass
        _, alive = psutil.wait_procs(family, timeout=grace_s)
        for process in alive:
            try:
                process.kill()
            except psutil.NoSuchProcess:
                pass
        psutil.wait_procs(alive, timeout=5)  # waits on self.process too: no zombie left behind

    def __enter__(self) -> AppServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.process.pid)

    def rss_mb(self) -> float:
        return rss_mb(self.process.pid)

    def log_tail(self, chars: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-chars:]


async def sample_peak_rss(server: AppServer, peak: list[float], every: float = 0.25) -> None:
    """Until cancelled (a load script's task): the server's largest resident memory so far, in peak[0]."""
    while True:
        peak[0] = max(peak[0], server.rss_mb())
        await asyncio.sleep(every)


async def page_exceptions(page) -> list[str]:
    """What Streamlit shows as an exception in an async Playwright page, one error line each."""
    texts = await page.locator('[data-testid="stException"]').all_inner_texts()
    return [f"exception element: {text[:200]}" for text in texts]


def launch_chromium(playwright, *args: str):
    """Debian's Chromium, headless, from sync or async Playwright (await the result with the async API).

    --no-sandbox: containers and CI runners often run as root, where Chromium's sandbox refuses to start.
    """
    return playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox", *args])
