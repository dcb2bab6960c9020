"""Server memory with 1 and with 20 browser sessions moving a slider. Target: peak <= 1.0 GB with 20 sessions.

    python -m benchmarks.memory_sessions [--run RUN_DIR] [--sessions 20] [--moves 10]

One Chromium, one browser context (cookies, websocket: a Streamlit session) per
visitor. RSS is the resident memory of the `streamlit run app.py` process and its
children (tests.appserver.rss_mb), sampled every 0.2 s in a background thread:

    idle       server up, no session yet (app.py not imported yet)
    1 session  one page open, its slider moved --moves times
    k sessions after each 5th page opened (pages open one after another: on two cores,
               twenty first runs at once starve the server's HTTP loop and time out)
    peak       the highest reading while all --sessions pages are open and move their
               sliders together (each presses ArrowRight, then all wait for their digits
               and for the server's rerun that takes the new point)
    after      the same, once all moves are done

By default Chromium does not load plotly.js (its bundle request is aborted): twenty
pages each drawing a 10,000-point WebGL scatter in software take the whole machine.
The server builds and sends every figure all the same, so its memory, the subject
here, is unchanged; --plotly draws them.

What one more session costs is (peak - 1 session) / (sessions - 1): the model is cached
once (st.cache_resource), so this is Streamlit's per-session state and the scripts'
transient arrays. Figures: benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import threading
import time

from playwright.sync_api import sync_playwright

from benchmarks._browser import DIGIT_READY_JS, PAD_SLIDER, PAD_STEP_DONE_JS, PAD_WATCH_JS, load_average
from tests.appserver import AppServer, launch_chromium
from tests.helpers import find_run


class RssSampler(threading.Thread):
    """Polls the server's RSS until stopped; .peak is the largest reading since the last reset."""

    def __init__(self, server: AppServer, every: float = 0.2):
        super().__init__(daemon=True)
        self.server, self.every, self.peak = server, every, 0.0
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.every):
            self.peak = max(self.peak, self.server.rss_mb())


def open_session(browser, url: str, plotly: bool):
    """A page in a context of its own, loaded to its first digit, watching it, z1 focused."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    if not plotly:  # the server still builds and sends every figure; only the browser skips drawing it
        context.route("**/PlotlyChart*.js", lambda route: route.abort())
    page = context.new_page()
    page.goto(url, timeout=600_000)
    page.wait_for_function(DIGIT_READY_JS, timeout=600_000)
    page.evaluate(PAD_WATCH_JS)
    page.locator(PAD_SLIDER.format("z1")).focus()
    return page


def move_together(pages: list, moves: int) -> None:
    """Every page presses ArrowRight, then every page waits for its new digit and the server's echo; moves times."""
    for move in range(1, moves + 1):
        for page in pages:
            page.keyboard.press("ArrowRight")
        for page in pages:
            page.wait_for_function(PAD_STEP_DONE_JS, arg=move, timeout=600_000)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run", help="run directory (default: the default pretrained run)")
    p.add_argument("--sessions", type=int, default=20)
    p.add_argument("--moves", type=int, default=10, help="slider steps per session (at most 39)")
    p.add_argument("--plotly", action="store_true", help="let Chromium load plotly.js and draw the scatter")
    args = p.parse_args()
    if not 1 <= args.moves <= 39:
        p.error("--moves must be between 1 and 39 (z1 starts at 0 and stops at 4.0)")

    run_dir = find_run(args.run)
    print(f"run: {run_dir}; {load_average()} at start")
    with sync_playwright() as pw, AppServer(run_dir=run_dir) as server:
        browser = launch_chromium(pw)
        sampler = RssSampler(server)
        sampler.start()
        time.sleep(1.0)
        idle = server.rss_mb()
        t0 = time.perf_counter()
        print(f"idle: {idle:.0f} MiB", flush=True)
        pages = [open_session(browser, server.url, args.plotly)]
        move_together(pages, args.moves)
        one = server.rss_mb()
        print(f"1 session: {one:.0f} MiB, opened and moved {args.moves} times in {time.perf_counter() - t0:.0f} s")
        sampler.peak = 0.0
        t0 = time.perf_counter()
        while len(pages) < args.sessions:
            pages.append(open_session(browser, server.url, args.plotly))
            if len(pages) % 5 == 0:
                print(f"{len(pages)} sessions open: {server.rss_mb():.0f} MiB ({time.perf_counter() - t0:.0f} s)")
        t0 = time.perf_counter()
        move_together(pages, args.moves)
        print(f"{args.sessions} sessions moved {args.moves} times together in {time.perf_counter() - t0:.0f} s")
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
