"""Watch it learn, in Chromium: the training page replays a trained run's latent space epoch by epoch."""

import shutil
import time

from playwright.sync_api import expect

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
    seen, deadline = set(), time.time() + 30
    while time.time() < deadline and not (seen >= {1, 2} and page.locator(".st-key-replay_play").count()):
        seen.add(page.evaluate(SHOWN_EPOCH_JS))
        page.wait_for_timeout(50)
    # Play went back to epoch 1 and on to 2 (rarely it stays at 1: the page's state says where it stopped)
    assert seen >= {1, 2}, (seen, page.evaluate(PANEL_STATE_JS))
    expect(page.locator(".st-key-replay_play button")).to_be_visible()  # and stopped at the last epoch
    page.context.close()
