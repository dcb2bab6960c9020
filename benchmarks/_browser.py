"""What the browser benchmarks share: a run to show, `streamlit run app.py` on a free port, its memory, Chromium.

The app looks for runs in pretrained/ and runs/ (or $VAE_PRETRAINED_DIR, $VAE_RUNS_DIR).
A benchmark points VAE_PRETRAINED_DIR at the folder holding the run it wants and opens
the page at ?run=pretrained/<name>, so it measures a known run without touching the
repository's folders.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
# The explorer's widgets, as Streamlit renders them (checked against Streamlit 1.67's DOM).
SLIDER = '[data-testid="stSlider"]'
IMAGE = '[data-testid="stImage"]'


def find_run(given: str | None = None) -> Path:
    """--run, else the default (or first usable) pretrained run, else a quick 2-epoch run trained now (needs MNIST)."""
    if given:
        return Path(given).resolve()
    from vae import catalog

    usable = [info for info in catalog.list_runs() if info.ok and info.name.startswith("pretrained/")]
    if usable:  # list_runs puts the default run first
        return usable[0].path
    out = Path(tempfile.mkdtemp(prefix="bench-run-")) / "quick"
    print(f"no --run and no usable run in pretrained/: training a quick one into {out}", flush=True)
    command = [sys.executable, "train.py", "--subset", "2000", "--epochs", "2", "--out", str(out)]
    subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def process_tree(pid: int) -> list[int]:
    """pid and all its descendants, from /proc/<pid>/stat's parent field."""
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended while we looked
            continue
        parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    tree, todo = [], [pid]
    while todo:
        tree.append(todo.pop())
        todo += parents.get(tree[-1], [])
    return tree


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of pid and its children so far (/proc/<pid>/stat); 0 once they are gone."""
    ticks = 0
    for p in process_tree(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended while we looked
            continue
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    """Resident memory of pid and its children, in MiB (VmRSS from /proc/<pid>/status)."""
    total_kb = 0
    for p in process_tree(pid):
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total_kb += int(line.split()[1])
        except OSError:
            continue
    return total_kb / 1024


class AppServer:
    """`streamlit run app.py` showing run_dir, for the length of a with-block.

    ``launched`` and ``healthy`` are time.perf_counter() readings: the command started,
    and /_stcore/health first answered.
    """

    def __init__(self, run_dir: Path, runs_dir: Path | None = None, app: str = "app.py", log: Path | None = None):
        self.run_dir, self.app = Path(run_dir), app
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/?run=pretrained/{self.run_dir.name}"
        self.env = os.environ | {"VAE_PRETRAINED_DIR": str(self.run_dir.parent)}
        # runs/ of its own, so a benchmark neither lists nor writes the repository's runs
        self.env["VAE_RUNS_DIR"] = str(runs_dir or Path(tempfile.mkdtemp(prefix="bench-runs-")))
        self.log = log or Path(tempfile.mkstemp(prefix="bench-streamlit-", suffix=".log")[1])
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> AppServer:
        command = [sys.executable, "-m", "streamlit", "run", self.app, "--server.port", str(self.port)]
        command += ["--server.headless", "true", "--server.fileWatcherType", "none"]
        command += ["--browser.gatherUsageStats", "false"]
        self.launched = time.perf_counter()
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        deadline = self.launched + 120
        while time.perf_counter() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/_stcore/health", timeout=1)
                self.healthy = time.perf_counter()
                return self
            except OSError:
                if self.process.poll() is not None:
                    raise SystemExit(f"streamlit exited:\n{self.log.read_text()[-2000:]}") from None
                time.sleep(0.05)
        self.__exit__()
        raise SystemExit(f"streamlit did not answer /_stcore/health within 120 s; log: {self.log}")

    def __exit__(self, *exc) -> None:
        """SIGTERM (Streamlit shuts down its sessions), then SIGKILL after 10 s."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def rss_mb(self) -> float:
        return rss_mb(self.process.pid)


def launch_chromium(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])


def load_average() -> str:
    return f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}"


# The app's sliders and digit (vae/pad.py): drawn by the page. Playwright's CSS locators see through
# the component's shadow root; page scripts read the pad's own counters (window.__padStats).
PAD_SLIDER = '.pad input[type="range"][aria-label="{}"]'  # .format("z1")
DIGIT_READY_JS = "() => (globalThis.__padStats?.frames ?? 0) > 0"  # the first digit is on the canvas
PAD_WATCH_JS = """() => {
  window.__keys = [];
  document.addEventListener('keydown', () => window.__keys.push(performance.now()), true);
}"""
# The n-th key (from 1) has been drawn and the server has echoed it (a rerun reached the pad).
PAD_STEP_DONE_JS = """(n) => {
  const key = window.__keys[n - 1], s = window.__padStats;
  return key !== undefined && s.drawnAt.some((t) => t >= key) && s.updatedAt.some((t) => t >= key);
}"""
# Per key, milliseconds to the first frame drawn after it and to the first rerun that reached the pad.
PAD_LATENCIES_JS = """() => window.__keys.map((key) => [
  Math.min(...window.__padStats.drawnAt.filter((t) => t >= key)) - key,
  Math.min(...window.__padStats.updatedAt.filter((t) => t >= key)) - key,
])"""

# The floor page (benchmarks/slider_floor_page.py) has Streamlit's own sliders and an st.image digit.
# Installed in a page with page.evaluate: records, in the page's own clock (performance.now()),
# every key pressed, every new src of the digit image (the st.image captioned "decoder(z = ...)"),
# when each new digit finished loading, and the time of the latest change anywhere in the page.
WATCH_JS = """() => {
  const caption = (e) => e.querySelector('[data-testid="stImageCaption"]')?.innerText || '';
  const digit = () => [...document.querySelectorAll('[data-testid="stImage"]')]
    .find((e) => caption(e).startsWith('decoder(z'))?.querySelector('img');
  const w = (window.__watch = {keys: [], digit: [], loaded: {}, last: performance.now()});
  let lastDigit = digit()?.src;
  new MutationObserver(() => {
    const now = performance.now(), d = digit()?.src;
    w.last = now;
    if (d && d !== lastDigit) { lastDigit = d; w.digit.push([now, d]); }
  }).observe(document.body, {subtree: true, childList: true, attributes: true, characterData: true});
  // load does not bubble; capture sees it.
  document.addEventListener('load', (e) => { if (e.target === digit()) w.loaded[e.target.src] = performance.now(); }, true);
  document.addEventListener('keydown', () => w.keys.push(performance.now()), true);
}"""
# True once the n-th new digit (counting from 1) has loaded and nothing in the page changed for 300 ms
# (the rest of the rerun, e.g. the scatter, has been drawn): the step is over.
STEP_DONE_JS = """(n) => __watch.digit.length >= n && __watch.digit[n - 1][1] in __watch.loaded &&
  performance.now() - __watch.last > 300"""
