"""What the browser benchmarks (and tests/stress/load_sessions.py) read in the page, and the load beside each figure.

The server and Chromium they start come from tests/appserver.py (AppServer, launch_chromium);
the run they show from tests.helpers.find_run.
"""

from __future__ import annotations

import os


def load_average() -> str:
    """What to print beside a timing: on a shared machine the load explains most of its spread."""
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
SLIDER = '[data-testid="stSlider"]'  # as Streamlit renders one (checked against Streamlit 1.67's DOM)
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
