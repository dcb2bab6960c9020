"""From `streamlit run app.py` to the first decoded digit visible in Chromium. Target: first digit <= 8 s.

    python -m benchmarks.cold_start [--run RUN_DIR]

Chromium is started first (a browser is already open in a lecture); the clock starts
when the server command is launched and stops when the page has drawn the first digit
(the app's sliders and digit are drawn by the page with the decoder it was sent).
Printed: launch -> /_stcore/health, -> page loaded (DOMContentLoaded), -> first digit;
then a second visitor's first digit on the warm server (the model is cached by then),
the baseline for what the cold start adds.

Where the time goes: Streamlit imports app.py on the first session's first run, not at
server start, so the app's imports and the model load sit between the page loading and
the digit. The app serves numpy forward passes (vae/inference.py) and never imports
TensorFlow, whose import alone would take most of the budget. A fresh Python process
times each piece the first run does, in order (disk cache warm from the run before, as
on a lecturer's laptop after one start). Figures: benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

from playwright.sync_api import sync_playwright

from benchmarks._browser import DIGIT_READY_JS, load_average
from tests.appserver import AppServer, launch_chromium
from tests.helpers import ROOT, find_run

# Run in a fresh interpreter: cumulative seconds after each step of the app's first run.
PIECES = r"""
import json, sys, time
start, marks = time.perf_counter(), []
def mark(name): marks.append((name, time.perf_counter() - start))
import streamlit; mark("import streamlit")
import plotly.graph_objects; mark("import plotly")
from vae import catalog, io, generate, pad; mark("import vae (catalog, io, generate, pad)")
runs = catalog.list_runs(); mark(f"catalog.list_runs ({len(runs)} runs, JSON only)")
info = catalog.describe(sys.argv[1])
run = catalog.open_run(info); mark("open_run: weights from model.keras (numpy) + latents.npz")
import numpy as np
run.model.decode(np.zeros((1, run.config.latent_dim))); mark("first decode")
generate.tile(run.model.decode(generate.grid_points(20, "linspace", 4.0)), 20); mark("20 x 20 grid decoded")
pad.packed_decoder(run.model, run.latents["mean"], run.latents["labels"]); mark("decoder packed for the page")
mark(f"TensorFlow imported: {'tensorflow' in sys.modules}")
print(json.dumps(marks))
"""


def first_digit(browser, url: str) -> tuple[float, float]:
    """(seconds from goto to DOMContentLoaded, seconds from goto to the digit loaded) in a new page."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    t0 = time.perf_counter()
    page.goto(url, wait_until="domcontentloaded", timeout=180_000)
    dom = time.perf_counter() - t0
    page.wait_for_function(DIGIT_READY_JS, timeout=180_000, polling=20)
    return dom, time.perf_counter() - t0


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run", help="run directory (default: the default pretrained run)")
    args = p.parse_args()
    run_dir = find_run(args.run)
    print(f"run: {run_dir}; {load_average()} at start")

    with sync_playwright() as pw:
        browser = launch_chromium(pw)
        with AppServer(run_dir=run_dir) as server:
            health = server.healthy - server.launched
            dom, digit = first_digit(browser, server.url)
            total = time.perf_counter() - server.launched
            _, second = first_digit(browser, server.url)
        browser.close()

    print(f"\ncold start, wall clock from launching `streamlit run app.py`: {total:.1f} s to the first digit")
    print(f"  launch -> /_stcore/health          {health:6.1f} s")
    print(f"  -> page loaded (DOMContentLoaded)  {dom:6.1f} s")
    print(f"  -> first digit drawn               {digit - dom:6.1f} s  (the app's first run, the decoder sent, drawn)")
    print(f"second visitor, warm server: {second:.1f} s from opening the page to the digit")
    verdict = "met" if total <= 8 else "MISSED"
    print(f"cold start {total:.1f} s (target <= 8 s: {verdict}); {load_average()}")

    probe = subprocess.run(
        [sys.executable, "-c", PIECES, f"pretrained/{run_dir.name}"],
        cwd=ROOT, env=server.env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    print("\nthe first run's pieces, timed one after another in a fresh Python process:")
    before = 0.0
    for name, at in json.loads(probe.stdout.splitlines()[-1]):
        print(f"  {at - before:6.2f} s  {name}")
        before = at
    print(f"  {before:6.2f} s  in all ({load_average()})")


if __name__ == "__main__":
    main()
