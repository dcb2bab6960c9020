"""One slider step to the new digit on screen, in a real browser against `streamlit run app.py`.

    python -m benchmarks.slider_roundtrip [--run RUN_DIR] [--steps 60]

Chromium (headless, Debian's) opens the app, focuses the z1 slider and presses
ArrowRight; half way it moves to z2, so every step asks for a point not seen before.
The app's sliders and digit are drawn by the page (vae/pad.py: the decoder runs in the
browser), and the point goes to the server when the step ends. Timed in the page's own
clock (performance.now()), so Playwright's and Python's overheads are not counted:

    key -> digit drawn   the first frame on the digit canvas after the key (the target)
    key -> server echo   the first rerun that reached the page after the key: the server
                         has the point (the map marker, the grid ring and uploads use it)

Each step waits for both plus 0.1 s. Target: key -> digit drawn p95 <= 150 ms (figures:
benchmarks/README.md).

Baseline, same run, same browser: benchmarks/slider_floor_page.py, Streamlit's own two
sliders and a digit image in a fragment with no model, plot or grid: what any slider that
waits for the server costs on this machine right now (key -> new image loaded).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from playwright.sync_api import sync_playwright

from benchmarks._browser import (
    DIGIT_READY_JS,
    PAD_LATENCIES_JS,
    PAD_SLIDER,
    PAD_STEP_DONE_JS,
    PAD_WATCH_JS,
    SLIDER,
    STEP_DONE_JS,
    WATCH_JS,
    load_average,
)
from tests.appserver import AppServer, launch_chromium
from tests.helpers import find_run

STEPS_PER_SLIDER = 39  # a slider at 0 reaches its end (4.0) after 40 steps of 0.1: stop short of it
FLOOR_DIGIT_JS = """() => [...document.querySelectorAll('[data-testid="stImage"] img')].some(
  (img) => img.complete && img.naturalWidth > 0)"""


def stepped_page(url: str, steps: int, ready_js: str, watch_js: str, slider: str, done_js: str, result_js: str):
    """Open url, wait for its first digit, install watch_js, press ArrowRight steps times on the z1 then
    the z2 slider (slider.format("z1")), each step waiting for done_js plus 0.1 s; return result_js's value."""
    with sync_playwright() as p:
        browser = launch_chromium(p)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(url)
        page.wait_for_function(ready_js, timeout=180_000)
        time.sleep(1.0)  # let the first run's remaining elements (scatter, grid) settle
        page.evaluate(watch_js)
        for step in range(steps):
            if step % STEPS_PER_SLIDER == 0:  # z1 first, then z2
                page.locator(slider.format("z1" if step < STEPS_PER_SLIDER else "z2")).focus()
            page.keyboard.press("ArrowRight")
            page.wait_for_function(done_js, arg=step + 1, timeout=60_000, polling=10)
            time.sleep(0.1)
        result = page.evaluate(result_js)
        browser.close()
    return result


def measure_app(url: str, steps: int) -> np.ndarray:
    """(steps, 2) milliseconds: key -> digit drawn, key -> server echo."""
    latencies = stepped_page(url, steps, DIGIT_READY_JS, PAD_WATCH_JS, PAD_SLIDER, PAD_STEP_DONE_JS, PAD_LATENCIES_JS)
    return np.array(latencies)


def measure_floor(url: str, steps: int) -> np.ndarray:
    """(steps, 1) milliseconds: key -> the new digit image loaded."""
    slider = f'{SLIDER} input[aria-label="{{}}"]'
    watch = stepped_page(url, steps, FLOOR_DIGIT_JS, WATCH_JS, slider, STEP_DONE_JS, "__watch")
    loaded = np.array([watch["loaded"][src] for _, src in watch["digit"]])
    return (loaded - np.array(watch["keys"]))[:, None]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run", help="run directory (default: the default pretrained run)")
    p.add_argument("--steps", type=int, default=60, help=f"slider steps, at most {2 * STEPS_PER_SLIDER}")
    args = p.parse_args()
    if not 1 <= args.steps <= 2 * STEPS_PER_SLIDER:
        p.error(f"--steps must be between 1 and {2 * STEPS_PER_SLIDER}")

    run_dir = find_run(args.run)
    print(f"run: {run_dir}; {load_average()} at start")
    with AppServer(run_dir=run_dir) as server:
        app = measure_app(server.url, args.steps)
    with AppServer("benchmarks/slider_floor_page.py") as server:
        floor = measure_floor(server.url, args.steps)
    print(f"\n{'milliseconds, page clock':<40} {'steps':>5} {'p50':>7} {'p95':>7} {'max':>7}")
    rows = [
        ("app.py: key -> digit drawn", app[:, 0]),
        ("app.py: key -> server echo", app[:, 1]),
        ("floor: key -> digit loaded (server)", floor[:, 0]),
    ]
    for name, ms in rows:
        p50, p95 = np.percentile(ms, [50, 95])
        print(f"{name:<40} {len(ms):>5} {p50:7.1f} {p95:7.1f} {ms.max():7.1f}")
    drawn, server = (np.percentile(ms, [50, 95]) for ms in (app[:, 0], floor[:, 0]))
    print(f"\nkey -> digit, floor / app: {server[0] / drawn[0]:.0f}x at p50, {server[1] / drawn[1]:.0f}x at p95")
    print(f"app.py p95 {drawn[1]:.1f} ms (target <= 150 ms: {'met' if drawn[1] <= 150 else 'MISSED'})")
    print(f"{load_average()} at end")


if __name__ == "__main__":
    main()
