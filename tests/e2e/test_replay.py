"""Watch it learn, in Chromium: the training page replays a trained run's latent space epoch by epoch."""

import shutil
import time

import numpy as np
from playwright.sync_api import expect

from tests.helpers import make_run
from vae import snapshots

SHOWN_EPOCH_JS = """() => {
  const gd = document.querySelector('.st-key-replay .js-plotly-plot');
  const title = gd && gd.layout.annotations && gd.layout.annotations[0] && gd.layout.annotations[0].text;
  const match = title && title.match(/epoch (\\d+)/);
  return match ? Number(match[1]) : null;
}"""
# What the replay panel shows, for a failure message: Play or Pause, the progress line, the charts, the status.
PANEL_STATE_JS = """() => ({
  pause: !!document.querySelector('.st-key-replay_pause'),
  play: !!document.querySelector('.st-key-replay_play'),
  progress: [...document.querySelectorAll('[data-testid="stProgress"]')].map((e) => e.textContent),
  charts: document.querySelectorAll('.st-key-replay .js-plotly-plot').length,
  status: document.querySelector('[data-testid="stStatusWidget"]')?.textContent ?? null,
})"""


def test_play_replays_the_epochs_of_a_trained_run(browser, app_url, app_runs_dir, tiny_run):
    shutil.copytree(tiny_run, app_runs_dir / "tiny")  # train.py's run: two epochs, each with its snapshot
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.goto(app_url.split("?")[0] + "train?run=runs/tiny")
    chart = page.locator(".st-key-replay .js-plotly-plot")
    expect(chart).to_be_visible(timeout=120_000)
    page.wait_for_function(f"() => ({SHOWN_EPOCH_JS})() === 2")  # it opens on the last epoch
    page.locator(".st-key-replay_play button").click()
    # Playing shows Pause and a progress line; the still view at epoch 1 would be a Play that never played
    expect(page.locator(".st-key-replay_pause button")).to_be_visible(timeout=15_000)
    seen, deadline = [], time.time() + 30
    while time.time() < deadline and page.locator(".st-key-replay_pause").count():
        seen.append(page.evaluate(SHOWN_EPOCH_JS))
        page.wait_for_timeout(50)
    assert 1 in seen, (seen, page.evaluate(PANEL_STATE_JS))  # it went back to the first epoch
    # Play comes back only from a tick that reached the last epoch: it played on, and stopped there
    expect(page.locator(".st-key-replay_play button")).to_be_visible()
    assert page.evaluate(SHOWN_EPOCH_JS) == 2, page.evaluate(PANEL_STATE_JS)
    page.context.close()


def test_pause_stops_the_replay_where_it_is(browser, app_url, app_runs_dir):
    run_dir = make_run(app_runs_dir / "long", epochs=12)  # twelve frames of replay.FRAME_SECONDS: time to pause
    rng = np.random.default_rng(0)
    for epoch in range(1, 13):
        codes = rng.normal(size=(200, 2))
        snapshots.write_snapshot(run_dir, epoch, codes, np.full_like(codes, -2.0), np.arange(200) % 10, np.arange(200))
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.goto(app_url.split("?")[0] + "train?run=runs/long")
    expect(page.locator(".st-key-replay .js-plotly-plot")).to_be_visible(timeout=120_000)
    page.wait_for_function(f"() => ({SHOWN_EPOCH_JS})() === 12")
    page.locator(".st-key-replay_play button").click()
    page.wait_for_function(f"() => ({SHOWN_EPOCH_JS})() === 3", timeout=15_000)
    page.locator(".st-key-replay_pause button").click()
    expect(page.locator(".st-key-replay_play button")).to_be_visible(timeout=5_000)
    paused_at = page.evaluate(SHOWN_EPOCH_JS)
    page.wait_for_timeout(2_000)  # three frames' time: a replay still playing would have moved on
    assert page.evaluate(SHOWN_EPOCH_JS) == paused_at and 3 <= paused_at < 12, page.evaluate(PANEL_STATE_JS)
    assert not page.locator(".st-key-replay_pause").count()
    page.context.close()
