"""Issue 4, target 7: server memory with 1 and with 20 browser sessions moving a slider.

    python -m benchmarks.memory_sessions [--run RUN_DIR] [--sessions 20] [--moves 10]

One Chromium, one browser context (cookies, websocket: a Streamlit session) per
visitor. RSS is the resident memory of the `streamlit run app.py` process and its
children (/proc/<pid>/status), sampled every 0.2 s in a background thread:

    idle       server up, no session yet (app.py not imported: no TensorFlow yet)
    1 session  one page open, its slider moved --moves times
    peak       the highest reading while --sessions pages open and all move their
               sliders together (each presses ArrowRight, then all wait for their digits)
    after      the same, once all moves are done

Target: peak <= 1.0 GB with 20 sessions. What one more session costs is (peak - 1
session) / (sessions - 1): the model is cached once (st.cache_resource), so this is
Streamlit's per-session state and the scripts' transient arrays.
"""

from __future__ import annotations

import argparse
import threading
import time

from playwright.sync_api import sync_playwright

from benchmarks._server import (
    DIGIT_READY_JS,
    SLIDER,
    STEP_DONE_JS,
    WATCH_JS,
    AppServer,
    find_run,
    launch_chromium,
    load_average,
)


class RssSampler(threading.Thread):
    """Polls the server's RSS until stopped; .peak is the largest reading since the last reset."""

    def __init__(self, server: AppServer, every: float = 0.2):
        super().__init__(daemon=True)
        self.server, self.every, self.peak = server, every, 0.0
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.every):
            self.peak = max(self.peak, self.server.rss_mb())


def open_sessions(browser, url: str, n: int) -> list:
    """n pages, each in its own context, loaded together; each watching its digit and focused on z1."""
    pages = [browser.new_context(viewport={"width": 1400, "height": 1000}).new_page() for _ in range(n)]
    for page in pages:
        page.goto(url, wait_until="commit", timeout=300_000)
    for page in pages:
        page.wait_for_function(DIGIT_READY_JS, timeout=600_000)
    time.sleep(1.0)
    for page in pages:
        page.evaluate(WATCH_JS)
        page.locator(f'{SLIDER} input[aria-label="z1"]').focus()
    return pages


def move_together(pages: list, moves: int) -> None:
    """Every page presses ArrowRight, then every page waits for its new digit; moves times."""
    for move in range(1, moves + 1):
        for page in pages:
            page.keyboard.press("ArrowRight")
        for page in pages:
            page.wait_for_function(STEP_DONE_JS, arg=move, timeout=600_000)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run", help="run directory (default: the default pretrained run)")
    p.add_argument("--sessions", type=int, default=20)
    p.add_argument("--moves", type=int, default=10, help="slider steps per session (at most 39)")
    args = p.parse_args()
    if not 1 <= args.moves <= 39:
        p.error("--moves must be between 1 and 39 (z1 starts at 0 and stops at 4.0)")

    run_dir = find_run(args.run)
    print(f"run: {run_dir}; {load_average()} at start")
    with sync_playwright() as pw, AppServer(run_dir) as server:
        browser = launch_chromium(pw)
        sampler = RssSampler(server)
        sampler.start()
        time.sleep(1.0)
        idle = server.rss_mb()
        t0 = time.perf_counter()
        first = open_sessions(browser, server.url, 1)
        move_together(first, args.moves)
        one = server.rss_mb()
        print(f"1 session: opened and moved {args.moves} times in {time.perf_counter() - t0:.0f} s", flush=True)
        sampler.peak = 0.0
        t0 = time.perf_counter()
        others = open_sessions(browser, server.url, args.sessions - 1)
        opened = time.perf_counter() - t0
        move_together(first + others, args.moves)
        print(
            f"{args.sessions} sessions: opened in {opened:.0f} s, moved together in {time.perf_counter() - t0 - opened:.0f} s"
        )
        time.sleep(1.0)
        after, peak = server.rss_mb(), sampler.peak
        sampler.stopped.set()
        browser.close()

    print(f"\nserver RSS (streamlit run app.py and children), MiB; {load_average()}")
    print(f"  idle, no session                 {idle:7.0f}")
    print(f"  1 session, {args.moves} moves              {one:7.0f}")
    print(f"  peak, {args.sessions} sessions moving together {peak:7.0f}")
    print(f"  after, {args.sessions} sessions open           {after:7.0f}")
    print(f"  per extra session                {(peak - one) / max(args.sessions - 1, 1):7.1f}")
    verdict = "met" if peak <= 1024 else "MISSED"
    print(f"peak {peak:.0f} MiB with {args.sessions} sessions (target <= 1.0 GB = 1024 MiB: {verdict})")


if __name__ == "__main__":
    main()
