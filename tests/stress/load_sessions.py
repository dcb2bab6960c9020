"""Many students on one server. Each browser session makes 50 slider moves and one upload.

    python tests/stress/load_sessions.py [--sessions 20] [--moves 50] [--plotly]
    python tests/stress/load_sessions.py --moves 0      # a burst: twenty uploads at the same moment

One Chromium, one context (a Streamlit session of its own) per student, against one
`streamlit run app.py` showing the default pretrained run (tests.appserver.AppServer starts
it with a runs/ folder of its own). Pages are opened one after another (twenty first runs
at once only measure how long they queue for two cores), then every session runs
concurrently (asyncio.gather), each at its own pace:

    move     ArrowRight on z1 (then on z2); wait until the page has drawn the new digit
             (required), then up to --echo seconds for the server's rerun with the new
             point to reach the page. Streamlit folds a fragment's rerun into another
             one that arrives meanwhile (another step's, or a polling panel's), so a step
             may get no echo of its own while the server still took the point: counted,
             not an error. Latencies are from the keydown, in the page's own clock.
    check    after the moves, the map's caption (redrawn when the server takes a point)
             prints the server's point: it must equal the page's (nothing lost)
    upload   a synthetic digit PNG opened on the drawing pad (its file input): the page decodes it,
             makes it MNIST-like and encodes it, draws its star on the pad's plane and sends the
             28x28 as a drawing's; two latencies in the page's own clock, from just before the
             file is set: to the star on the pad (the pad's frame, __drawpadStats.pictureShownAt),
             and to the server's code (printed in the rerun that puts the star on the map, seen
             by a MutationObserver)

Errors, which must all be 0: a digit not drawn or an upload not shown within --timeout
seconds, a server point that differs from the page's after the moves, an exception element (stException) or a JavaScript error in any page, a
traceback in the server's log. Peak RSS is the server process and its children
(tests.appserver.rss_mb), sampled every 0.25 s.

By default Chromium is not given plotly.js (its bundle request is aborted): twenty pages
drawing a 10,000-point WebGL scatter in software would measure the browser, not the
server, on a two-core machine. The server still builds and sends every figure; --plotly
draws them too.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run as a script: vae and tests.* from the checkout

from playwright.async_api import Error as PlaywrightError  # noqa: E402
from playwright.async_api import async_playwright  # noqa: E402

from benchmarks._browser import (  # noqa: E402
    DIGIT_READY_JS,
    PAD_LATENCIES_JS,
    PAD_SLIDER,
    PAD_STEP_DONE_JS,
    PAD_WATCH_JS,
)
from tests.appserver import AppServer, cpu_seconds, launch_chromium, page_exceptions, sample_peak_rss  # noqa: E402
from tests.board_page import PICTURE_INPUT  # noqa: E402
from tests.helpers import digit_png, find_run  # noqa: E402
from vae.ui.i18n import t  # noqa: E402

# A slider at 0 reaches its end (4.0) after 40 steps of 0.1: the moves go right on z1, then on z2.
STEPS_PER_SLIDER = 39
# The n-th key (from 1) has been drawn on the page's canvas.
PAD_DRAWN_JS = """(n) => window.__keys[n - 1] !== undefined &&
  window.__padStats.drawnAt.some((t) => t >= window.__keys[n - 1])"""
# Poll page conditions on a timer: the default, requestAnimationFrame, stalls in pages Chromium is not painting.
POLL_MS = 50
# The upload's code, printed by the server in the same rerun that puts its star on the map (the chart
# itself may not be drawn: plotly.js is left out by default, see above). A MutationObserver notes the
# moment in the page's clock: polling every page from Playwright, with innerText forcing a layout each
# time, cost the pages more CPU than the server spent (benchmarks/README.md, this script's row).
WATCH_UPLOAD_JS = """(prefix) => {
  window.__uploadShownAt = null;
  const shown = () => [...document.querySelectorAll('[data-testid="stMarkdownContainer"]')].some((e) =>
    e.textContent.startsWith(prefix));
  const observer = new MutationObserver(() => {
    if (shown()) { window.__uploadShownAt = performance.now(); observer.disconnect(); }
  });
  observer.observe(document.body, { childList: true, subtree: true, characterData: true });
  return performance.now();
}"""
UPLOAD_SHOWN_JS = "() => window.__uploadShownAt !== null"
PICTURE_ON_PAD_JS = "(started) => (window.__drawpadStats.pictureShownAt ?? -1) >= started"
DRAWPAD_READY_JS = "() => window.__drawpadStats?.ready === true"
UPLOAD_POLL_MS = 250  # how often Playwright asks whether the observer saw it: the latency comes from the page


class Session:
    """One student: a browser context, its page, what went wrong and how long each step took."""

    def __init__(self, number: int):
        self.number = number
        self.page = None
        self.errors: list[str] = []
        self.upload_s: float | None = None  # to the server's code and star on the map
        self.pad_s: float | None = None  # to the star on the pad, made in the page
        self.pad_work_s: float | None = None  # of which the pad's own work: decode, preprocess, encode, draw
        self.warmed_up = False  # photo.mjs's warm-up had run before the picture came (vae/static/photo.mjs)
        self.pad_stages: dict[str, float] = {}  # ms: checking and decoding the file, preprocessing, the frame
        self.step_ms: list[list[float]] = []  # per move: [key -> digit drawn, key -> server echo or inf]
        self.unechoed = 0

    async def open(self, browser, url: str, plotly: bool, timeout_s: float) -> None:
        context = await browser.new_context(viewport={"width": 1400, "height": 1000})
        if not plotly:
            await context.route("**/PlotlyChart*.js", lambda route: route.abort())
        self.page = await context.new_page()
        self.page.on("pageerror", lambda err: self.errors.append(f"JavaScript error: {err}"))
        await self.page.goto(url, timeout=timeout_s * 1000)
        await self.page.wait_for_function(DIGIT_READY_JS, timeout=timeout_s * 1000, polling=POLL_MS)
        await self.page.wait_for_function(DRAWPAD_READY_JS, timeout=timeout_s * 1000, polling=POLL_MS)
        await self.page.evaluate(PAD_WATCH_JS)

    async def move(self, moves: int, timeout_s: float, echo_s: float) -> None:
        try:
            for step in range(moves):
                if step % STEPS_PER_SLIDER == 0:
                    slider = "z1" if step < STEPS_PER_SLIDER else "z2"
                    await self.page.locator(PAD_SLIDER.format(slider)).focus()
                await self.page.keyboard.press("ArrowRight")
                await self.page.wait_for_function(PAD_DRAWN_JS, arg=step + 1, timeout=timeout_s * 1000, polling=POLL_MS)
                try:
                    await self.page.wait_for_function(
                        PAD_STEP_DONE_JS, arg=step + 1, timeout=echo_s * 1000, polling=POLL_MS
                    )
                except PlaywrightError:
                    self.unechoed += 1
        except PlaywrightError:
            self.errors.append(f"move {step + 1}: digit not drawn within {timeout_s:g} s")
        self.step_ms = await self.page.evaluate(PAD_LATENCIES_JS)

    async def check_server_point(self, timeout_s: float) -> None:
        """The server's point (printed in the map's caption each time the map is redrawn) is the page's."""
        readout = await self.page.locator(".pad .readout").inner_text()
        point = readout.removeprefix("decoder(").removesuffix(")")  # "z = (0.50, 0.00)"
        caption = self.page.locator('[data-testid="stCaptionContainer"]').filter(has_text=point)
        try:
            await caption.first.wait_for(timeout=timeout_s * 1000)
        except PlaywrightError:
            self.errors.append(f"the server does not show the page's point {point} within {timeout_s:g} s")

    async def upload(self, png: bytes, timeout_s: float) -> None:
        started = await self.page.evaluate(WATCH_UPLOAD_JS, t("own.code", lang="en").split("{")[0])
        await self.page.locator(PICTURE_INPUT).set_input_files(
            files=[{"name": f"digit-{self.number}.png", "mimeType": "image/png", "buffer": png}]
        )
        try:
            await self.page.wait_for_function(
                PICTURE_ON_PAD_JS, arg=started, timeout=timeout_s * 1000, polling=UPLOAD_POLL_MS
            )
            self.pad_s = (await self.page.evaluate("window.__drawpadStats.pictureShownAt") - started) / 1000
            self.pad_work_s = (await self.page.evaluate("window.__drawpadStats.pictureMs.at(-1)")) / 1000
            self.warmed_up = await self.page.evaluate("window.__drawpadStats.warmUpMs !== null")
            self.pad_stages = await self.page.evaluate(
                "Object.fromEntries(Object.entries(window.__drawpadStats.pictureStageMs).map(([k, v]) => [k, v.at(-1)]))"
            )
        except PlaywrightError:
            self.errors.append(f"upload: no star on the pad within {timeout_s:g} s")
        try:
            await self.page.wait_for_function(UPLOAD_SHOWN_JS, timeout=timeout_s * 1000, polling=UPLOAD_POLL_MS)
            self.upload_s = (await self.page.evaluate("window.__uploadShownAt") - started) / 1000
        except PlaywrightError:
            self.errors.append(f"upload: no code (the star) within {timeout_s:g} s")

    async def check_page(self) -> None:
        self.errors += await page_exceptions(self.page)


def browser_cpu_seconds(server: AppServer) -> float:
    """CPU seconds of this script's other children (Playwright's driver and Chromium): the load test's own cost."""
    return cpu_seconds(os.getpid()) - server.cpu_seconds() - time.process_time()


async def run(args: argparse.Namespace, server: AppServer) -> tuple[list[Session], float, float, dict]:
    peak = [0.0]
    sampler = asyncio.create_task(sample_peak_rss(server, peak))
    png = digit_png()
    async with async_playwright() as pw:
        browser = await launch_chromium(pw)
        sessions = [Session(i) for i in range(args.sessions)]
        started = time.perf_counter()
        for session in sessions:
            await session.open(browser, server.url, args.plotly, args.timeout * 10)
            if (session.number + 1) % 5 == 0:
                print(f"{session.number + 1} pages open ({time.perf_counter() - started:.0f} s)", flush=True)
        print(f"{args.sessions} pages open in {time.perf_counter() - started:.0f} s, {load()}", flush=True)

        async def student(session: Session) -> None:
            if args.moves:  # --moves 0: a burst, every upload at the same moment
                await session.move(args.moves, args.timeout, args.echo)
                await session.check_server_point(args.timeout)
            await session.upload(png, args.timeout)
            await session.check_page()

        started, cpu = time.perf_counter(), (server.cpu_seconds(), browser_cpu_seconds(server))
        await asyncio.gather(*(student(session) for session in sessions))
        busy_s = time.perf_counter() - started
        cpu = {"server": server.cpu_seconds() - cpu[0], "browser": browser_cpu_seconds(server) - cpu[1]}
        await browser.close()
    sampler.cancel()
    return sessions, busy_s, peak[0], cpu


def load() -> str:
    return f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())} (1, 5, 15 min)"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run", help="run directory (default: the default pretrained run)")
    p.add_argument("--sessions", type=int, default=20)
    p.add_argument("--moves", type=int, default=50, help=f"slider moves per session, at most {2 * STEPS_PER_SLIDER}")
    p.add_argument("--timeout", type=float, default=60.0, help="seconds one move or upload may take")
    p.add_argument("--echo", type=float, default=5.0, help="seconds to wait for a step's own server echo")
    p.add_argument("--plotly", action="store_true", help="let Chromium load plotly.js and draw the charts")
    args = p.parse_args()
    if not 0 <= args.moves <= 2 * STEPS_PER_SLIDER:
        p.error(f"--moves must be between 0 (an upload burst only) and {2 * STEPS_PER_SLIDER}")

    run_dir = find_run(args.run)
    print(f"run: {run_dir}; {args.sessions} sessions x {args.moves} moves + 1 upload; {load()} at start", flush=True)
    with AppServer(run_dir=run_dir) as server:
        idle = server.rss_mb()
        sessions, busy_s, peak, cpu = asyncio.run(run(args, server))
        tracebacks = server.log.read_text(errors="replace").count("Traceback")

    errors = [f"session {s.number}: {e}" for s in sessions for e in s.errors]
    errors += [f"server log: {tracebacks} traceback(s), see {server.log}"] if tracebacks else []
    steps = np.array([ms for s in sessions for ms in s.step_ms], dtype=float).reshape(-1, 2)
    steps[~np.isfinite(steps)] = np.nan  # a key with no echo of its own
    unechoed = sum(s.unechoed for s in sessions)
    uploads = np.array([s.upload_s for s in sessions if s.upload_s is not None])
    on_pads = np.array([s.pad_s for s in sessions if s.pad_s is not None])
    pad_work = np.array([s.pad_work_s for s in sessions if s.pad_work_s is not None])
    print(f"\n{args.sessions} sessions moved and uploaded together in {busy_s:.0f} s; {load()} at end")
    for error in errors[:20]:
        print(f"  ERROR {error}")
    print(f"errors: {len(errors)}")
    print(f"moves completed: {len(steps)} of {args.sessions * args.moves}")
    for column, what in ((0, "new digit drawn"), (1, "server echo (a rerun reached the page)")):
        ms = steps[:, column][np.isfinite(steps[:, column])]
        if len(ms):
            p50, p95 = np.percentile(ms, [50, 95])
            print(
                f"move, keydown -> {what} (page clock): {len(ms)} moves, p50 {p50:.0f} ms, p95 {p95:.0f} ms, max {ms.max():.0f} ms"
            )
    print(f"moves whose rerun was folded into another (no echo of their own within {args.echo:g} s): {unechoed}")
    for shown, what in (
        (on_pads, "its star on the pad (made in the page)"),
        (pad_work, "of which the pad's own work (file handed to the pad -> star drawn)"),
        (uploads, "the server's code, the map's star"),
    ):
        if len(shown):
            p50, p95 = np.percentile(shown, [50, 95])
            print(f"upload -> {what}: {len(shown)} of {args.sessions}, p50 {p50:.2f} s, p95 {p95:.2f} s")
    stages = {
        step: [s.pad_stages[step] for s in sessions if s.pad_stages] for step in ("decode", "preprocess", "frame")
    }
    if stages["frame"]:
        print(f"  pages whose picture steps had warmed up before the burst: {sum(s.warmed_up for s in sessions)}")
        print(
            "  the pad's steps, p50 / p95 ms: "
            + ", ".join(f"{k} {np.percentile(v, 50):.0f} / {np.percentile(v, 95):.0f}" for k, v in stages.items())
        )
    print(
        f"CPU seconds while the sessions ran: server {cpu['server']:.1f} ({cpu['server'] / args.sessions:.3f} per "
        f"session), the load test's Chromium and driver {cpu['browser']:.1f} (on the same cores in this test)"
    )
    print(f"server RSS (streamlit and children): {idle:.0f} MiB before the first page, peak {peak:.0f} MiB")
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
