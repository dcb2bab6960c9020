"""Issue 4, target 4: one slider step to the new digit on screen, in a real browser against `streamlit run app.py`.

    python -m benchmarks.slider_roundtrip [--run RUN_DIR] [--steps 60]

Chromium (headless, Debian's) opens the app, focuses the z1 slider and presses
ArrowRight; half way it moves to z2, so every step asks for a point not seen before.
A script in the page timestamps each keydown and each new digit image in the page's
own clock (performance.now()), so Playwright's and Python's overheads are not counted:

    key -> src     the digit <img> got the new src (Streamlit sent the new image's URL)
    key -> loaded  that image finished loading (fetched and decoded: it is on the next paint)
    key -> settled the last change anywhere in the page before 300 ms of quiet: the
                   whole rerun (scatter and grid included) is on screen

Each step waits for the previous one to settle plus 0.1 s.
Target: key -> loaded p95 <= 150 ms.

Baseline, same run, same browser: benchmarks/slider_floor_page.py, the same two sliders
and the digit image in a fragment with no model, plot or grid: Streamlit's round trip on
this machine right now. App minus floor is what the app's own work adds (the decode
alone is benchmarks/decode_latency.py).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
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

STEPS_PER_SLIDER = 39  # a slider at 0 reaches its end (4.0) after 40 steps of 0.1: stop short of it


def measure(url: str, steps: int) -> np.ndarray:
    """(steps, 3) milliseconds: key -> src, key -> loaded, key -> settled."""
    with sync_playwright() as p:
        browser = launch_chromium(p)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(url)
        page.wait_for_function(DIGIT_READY_JS, timeout=180_000)
        time.sleep(1.0)  # let the first run's remaining elements (scatter, grid) settle
        page.evaluate(WATCH_JS)
        settled = []
        for step in range(steps):
            if step % STEPS_PER_SLIDER == 0:  # z1 first, then z2
                slider = "z1" if step < STEPS_PER_SLIDER else "z2"
                page.locator(f'{SLIDER} input[aria-label="{slider}"]').focus()
            page.keyboard.press("ArrowRight")
            page.wait_for_function(STEP_DONE_JS, arg=step + 1, timeout=60_000)
            settled.append(page.evaluate("__watch.last"))
            time.sleep(0.1)
        watch = page.evaluate("__watch")
        browser.close()
    keys = np.array(watch["keys"])
    src = np.array([t for t, _ in watch["digit"]])
    loaded = np.array([watch["loaded"][s] for _, s in watch["digit"]])
    return np.stack([src - keys, loaded - keys, np.array(settled) - keys], axis=1)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run", help="run directory (default: the default pretrained run)")
    p.add_argument("--steps", type=int, default=60, help=f"slider steps, at most {2 * STEPS_PER_SLIDER}")
    args = p.parse_args()
    if not 1 <= args.steps <= 2 * STEPS_PER_SLIDER:
        p.error(f"--steps must be between 1 and {2 * STEPS_PER_SLIDER}")

    run_dir = find_run(args.run)
    print(f"run: {run_dir}; {load_average()} at start")
    results = {}
    for page, app in (("app.py", "app.py"), ("floor", "benchmarks/slider_floor_page.py")):
        with AppServer(run_dir, app=app) as server:
            results[page] = measure(server.url, args.steps)
    print(f"\n{'milliseconds, page clock':<36} {'steps':>5} {'p50':>7} {'p95':>7} {'max':>7}")
    for page, ms in results.items():
        for i, name in enumerate(("key -> digit src", "key -> digit loaded", "key -> page settled")):
            p50, p95 = np.percentile(ms[:, i], [50, 95])
            print(f"{page + ': ' + name:<36} {len(ms):>5} {p50:7.0f} {p95:7.0f} {ms[:, i].max():7.0f}")
    app, floor = (np.percentile(results[page][:, 1], [50, 95]) for page in ("app.py", "floor"))
    print(f"\nkey -> digit loaded, app / floor: {app[0] / floor[0]:.1f}x at p50, {app[1] / floor[1]:.1f}x at p95")
    print(f"app.py p95 {app[1]:.0f} ms (target <= 150 ms: {'met' if app[1] <= 150 else 'MISSED'})")
    print(f"{load_average()} at end")


if __name__ == "__main__":
    main()
