"""A full hall on the class board: browser sessions draw digits and send them while the projector's board page is open.

    python tests/stress/board_load.py [--students 20] [--sends 6] [--seconds 60] [--upload] [--postgres]

One `streamlit run app.py` on 127.0.0.1 (tests.appserver.AppServer, a runs/ folder of its own) with
a board of its own: a SQLite file in a fresh folder, or with --postgres a throwaway PostgreSQL
cluster with fsync on (tests/pg_cluster.py). One headless Chromium holds the students, a context
each (a Streamlit session of its own), at a low CPU priority (--student-nice): in a hall they are
the students' own phones and take none of the server's CPU, whereas here they share its cores. A
second Chromium, at normal priority, is the projector's board page.

1. The board page is opened and watched (tests/board_page.py: the wall-clock time each submission
   id first shows in the map's plotly data).
2. The students' explorer pages are opened one after another (twenty first runs at once would only
   measure how long they queue), then left idle for --idle seconds: the idle cost per session.
3. Every student then, at its own pace (its first send at a random moment of one --interval, then
   one every --interval), draws a digit on the pad with the mouse (a 1, a 7 or a 0, the pad cleared
   between them; --upload uploads one picture instead), picks the digit meant, presses Send and
   waits for the page to say sent (or why not). Sending stops at --seconds.

Reported: sends pressed, confirmed by the page, refused (with the store's reason), unanswered;
stored rows (lost = confirmed - stored, must be 0; stored must equal the sends); for each stored
row, send -> visible on the board page (its store time, the server's clock when it arrived, to the
board page's first sight of it; p50, p95, max; target p95 <= 2 s); the server's RSS (before the
first page, with every page open, peak) and its CPU seconds (idle phase and send phase), the same
per session and per digit. Exit status 1 if anything was lost, refused, unanswered or never seen,
an exception or JavaScript error appeared in a page, a traceback in the server's log, or p95 > 2 s.

By default the students' Chromium is not given plotly.js (its bundle request is aborted): twenty
pages drawing the explorer's 10,000-point WebGL map in software would measure the browser, not
the server; the server still builds and sends every figure. The board page draws its map.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run as a script: vae and tests.* from the checkout

from playwright.async_api import Error as PlaywrightError  # noqa: E402
from playwright.async_api import async_playwright  # noqa: E402

from tests import board_page as bp  # noqa: E402
from tests.appserver import AppServer, launch_chromium, page_exceptions, sample_peak_rss  # noqa: E402
from tests.helpers import arc, digit_png, find_run  # noqa: E402
from tests.pg_cluster import throwaway_cluster  # noqa: E402
from vae.board import DEFAULT_BOARD, URL_ENV, Board  # noqa: E402
from vae.limits import BOARD_MAX_PER_SESSION, BOARD_MIN_SECONDS_BETWEEN, BOARD_POLL_SECONDS  # noqa: E402
from vae.ui.i18n import t  # noqa: E402

VISIBLE_TARGET_S = 2.0
SPACING_MARGIN_S = 1.5  # beyond the store's 2 s between one session's digits, as a student's pace would be
STROKES = {1: bp.ONE, 7: bp.SEVEN, 0: [(140, 45), *arc(140, 140, 60, 95, -90, 270, n=16)]}  # one stroke each
REFUSED_PREFIX = t("board.refused", lang="en", reason="")
CHROMIUM_ARGS = ("--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run")


class Student:
    """One browser session: its page, what it pressed and what the page answered."""

    def __init__(self, number: int, upload: bool, shots: Path | None = None):
        self.number, self.upload, self.shots = number, upload, shots  # shots: a folder for failures' screenshots
        self.page = None
        self.sends = self.confirmed = 0
        self.refused: Counter[str] = Counter()
        self.unanswered = 0
        self.errors: list[str] = []

    async def open(self, browser, url: str, timeout_s: float) -> None:
        context = await browser.new_context(viewport={"width": 1400, "height": 1000})
        await context.route("**/PlotlyChart*.js", lambda route: route.abort())
        self.page = await context.new_page()
        self.page.set_default_timeout(timeout_s * 1000)
        self.page.on("pageerror", lambda err: self.errors.append(f"JavaScript error: {err}"))
        await self.page.goto(url)
        await self.page.get_by_text(bp.PAD_READY_TEXT).first.wait_for()
        if self.upload:
            await self.page.locator(bp.PICTURE_INPUT).set_input_files(
                files=[{"name": f"digit-{self.number}.png", "mimeType": "image/png", "buffer": digit_png()}]
            )
            await self.page.locator(bp.PILLS).first.wait_for()

    def digit(self, k: int) -> int:
        """The k-th digit this student sends: consecutive ones differ, since pressing the pill that is already
        picked would unpick it."""
        if self.upload:
            return (self.number + k) % 10
        shapes = list(STROKES)
        return shapes[(self.number + k) % len(shapes)]

    async def draw(self, digit: int, first: bool) -> None:
        if not first:  # the server hears the cleared pad and drops the send panel: wait, or an old pill is hit
            await self.page.locator(".drawpad .clear").click()
            await self.page.locator(bp.PILLS).first.wait_for(state="detached")
        canvas = self.page.locator(bp.CANVAS)
        await canvas.evaluate(bp.CENTRE_JS)
        points = bp.along(STROKES[digit], await canvas.bounding_box(), steps_per_segment=4)
        await self.page.mouse.move(*points[0])
        await self.page.mouse.down()
        for point in points[1:]:
            await self.page.mouse.move(*point)
        await self.page.mouse.up()

    async def send(self, digit: int, first: bool, timeout_s: float) -> None:
        step = "draw"
        try:
            if not self.upload:
                await self.draw(digit, first)
            step = "pick the digit"
            await self.page.locator(bp.PILLS).filter(has_text=re.compile(f"^{digit}$")).click()
            step = "press Send"
            await self.page.get_by_role("button", name=bp.SEND_LABEL).click()
        except PlaywrightError as err:
            self.errors.append(f"could not send a {digit} ({step}): {str(err).splitlines()[0]}")
            if self.shots:
                await self.page.screenshot(path=self.shots / f"student-{self.number}-{digit}.png", full_page=True)
            return
        self.sends += 1
        answer = self.page.get_by_text(bp.sent_text(digit)).or_(self.page.get_by_text(REFUSED_PREFIX.strip()))
        try:
            text = await answer.first.inner_text(timeout=timeout_s * 1000)
        except PlaywrightError:
            self.unanswered += 1
            return
        if text.startswith(REFUSED_PREFIX.strip()):
            self.refused[text] += 1
        else:
            self.confirmed += 1

    async def run(self, sends: int, interval: float, stop_at: float, timeout_s: float) -> None:
        rng = np.random.default_rng(self.number)
        next_at = time.perf_counter() + rng.uniform(0, interval)
        for k in range(sends):
            await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
            if time.perf_counter() >= stop_at:
                return
            pressed = time.perf_counter()
            await self.send(self.digit(k), k == 0, timeout_s)
            # A late answer must not bunch the next send up against this one: the store counts the 2 s between
            # arrivals, and one request may wait in the server's queue longer than the next.
            next_at = max(next_at + interval, pressed + BOARD_MIN_SECONDS_BETWEEN + SPACING_MARGIN_S)

    async def check_page(self) -> None:
        self.errors += await page_exceptions(self.page)


async def hall(args: argparse.Namespace, server: AppServer) -> dict:
    figures: dict = {"rss_before": server.rss_mb()}
    peak = [figures["rss_before"]]
    sampler = asyncio.create_task(sample_peak_rss(server, peak))
    async with async_playwright() as pw:
        projector = await launch_chromium(pw, *CHROMIUM_ARGS)
        before = set(descendants())
        browser = await launch_chromium(pw, *CHROMIUM_ARGS)  # the students' browser
        reniced = renice(set(descendants()) - before, args.student_nice)
        print(f"students' Chromium: {reniced} processes at nice {args.student_nice}", flush=True)
        board_context = await projector.new_context(viewport={"width": 1400, "height": 1000})
        board = await board_context.new_page()
        board_errors: list[str] = []
        board.on("pageerror", lambda err: board_errors.append(f"board page JavaScript error: {err}"))
        await board.goto(server.base_url + bp.BOARD_PATH)
        await board.wait_for_function(bp.BOARD_READY_JS, timeout=args.timeout * 3000, polling=100)
        await board.evaluate(bp.WATCH_BOARD_JS)

        students = [Student(i, args.upload, args.log and args.log.parent) for i in range(args.students)]
        started = time.perf_counter()
        for student in students:
            await student.open(browser, server.url, args.timeout * 3)
            if (student.number + 1) % 5 == 0:
                print(f"{student.number + 1} student pages open ({time.perf_counter() - started:.0f} s)", flush=True)
        figures["open_s"] = time.perf_counter() - started
        figures["rss_open"] = server.rss_mb()

        cpu = server.cpu_seconds()
        await asyncio.sleep(args.idle)
        figures["idle_cpu"], cpu = server.cpu_seconds() - cpu, server.cpu_seconds()
        print(
            f"idle {args.idle:g} s with every page open: server {figures['idle_cpu']:.2f} CPU s; {load()}", flush=True
        )

        started = time.perf_counter()
        stop_at = started + args.seconds
        await asyncio.gather(*(s.run(args.sends, args.interval, stop_at, args.timeout) for s in students))
        figures["send_s"] = time.perf_counter() - started
        figures["send_cpu"] = server.cpu_seconds() - cpu
        store = Board(server.env[URL_ENV])
        try:
            rows = store.all(DEFAULT_BOARD, include_hidden=True)
            deadline = time.perf_counter() + 10 * BOARD_POLL_SECONDS  # the board page's last polls
            while time.perf_counter() < deadline:
                seen = await board.evaluate(bp.SEEN_JS)
                if all(str(row.id) in seen for row in rows):
                    break
                await asyncio.sleep(0.2)
        finally:
            store.close()
        figures["seen"] = await board.evaluate(bp.SEEN_JS)
        figures["board_reloaded"] = not await board.evaluate(bp.STILL_LOADED_JS)
        for student in students:
            await student.check_page()
        await browser.close()
        await projector.close()
    sampler.cancel()
    figures.update(rows=rows, students=students, rss_peak=peak[0], board_errors=board_errors)
    return figures


def descendants() -> list[psutil.Process]:
    return psutil.Process().children(recursive=True)


def renice(processes: set[psutil.Process], nice: int) -> int:
    """Lower the students' browser below the server and the board page: on the real hall's phones it takes
    none of the server's CPU. Its later renderers are forked from these and inherit the value."""
    done = 0
    for process in processes:
        with contextlib.suppress(psutil.Error):
            process.nice(nice)
            done += 1
    return done


def load() -> str:
    return f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())} (1, 5, 15 min)"


def report(args: argparse.Namespace, server: AppServer, figures: dict, store_url: str) -> int:
    students, rows, seen = figures["students"], figures["rows"], figures["seen"]
    sends, confirmed = sum(s.sends for s in students), sum(s.confirmed for s in students)
    refused = sum((s.refused for s in students), Counter())
    unanswered = sum(s.unanswered for s in students)
    visible = np.array([seen[str(row.id)] / 1000 - row.time for row in rows if str(row.id) in seen])
    never_seen = sum(str(row.id) not in seen for row in rows)
    log = server.log.read_text(errors="replace")
    tracebacks = log.count("Traceback")
    errors = [f"student {s.number}: {e}" for s in students for e in s.errors] + figures["board_errors"]
    errors += [f"server log: {tracebacks} traceback(s) (keep it with --log)"] if tracebacks else []
    errors += ["the board page reloaded"] if figures["board_reloaded"] else []
    how = "upload one picture" if args.upload else "draw on the pad with the mouse"
    print(f"\nstore            {store_url}")
    print(f"students         {args.students} ({how}), {args.sends} sends each every {args.interval:g} s; {load()}")
    print(f"sends            {sends} pressed in {figures['send_s']:.1f} s; confirmed {confirmed}, "
          f"refused {sum(refused.values())}, unanswered {unanswered}")  # fmt: skip
    for message, count in refused.most_common():
        print(f"refused          {count} x {message}")
    print(f"stored           {len(rows)}; lost (confirmed - stored) {max(0, confirmed - len(rows))}")
    if len(visible):
        p50, p95 = np.percentile(visible, [50, 95])
        print(f"send -> visible  p50 {p50:.2f} s, p95 {p95:.2f} s, max {visible.max():.2f} s on the board page "
              f"({len(visible)} of {len(rows)} seen; poll every {BOARD_POLL_SECONDS:g} s; target p95 <= "
              f"{VISIBLE_TARGET_S:g} s)")  # fmt: skip
    per_session_mb = (figures["rss_open"] - figures["rss_before"]) / args.students
    idle_per_session = figures["idle_cpu"] / args.idle / (args.students + 1)
    send_cpu = figures["send_cpu"] - figures["idle_cpu"] / args.idle * figures["send_s"]
    print(f"server RSS       {figures['rss_before']:.0f} MiB before the first page, {figures['rss_open']:.0f} MiB "
          f"with {args.students + 1} pages open ({per_session_mb:.1f} MiB per student page), peak "
          f"{figures['rss_peak']:.0f} MiB")  # fmt: skip
    print(f"server CPU       idle: {figures['idle_cpu']:.2f} s in {args.idle:g} s ({100 * idle_per_session:.2f} % of "
          f"a core per open page); sending: {figures['send_cpu']:.2f} s in {figures['send_s']:.1f} s "
          f"({100 * figures['send_cpu'] / figures['send_s']:.0f} % of a core), "
          f"{send_cpu / max(1, len(rows)):.3f} CPU s per digit beyond idle")  # fmt: skip
    print(f"pages open       {args.students} student pages in {figures['open_s']:.0f} s")
    for error in errors[:20]:
        print(f"  ERROR {error}")
    print(f"errors           {len(errors)}")
    failed = errors or refused or unanswered or never_seen or len(rows) != sends or confirmed != len(rows)
    return 1 if failed or not len(visible) or np.percentile(visible, 95) > VISIBLE_TARGET_S else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", help="run directory (default: the default pretrained run)")
    parser.add_argument("--students", type=int, default=20)
    parser.add_argument("--sends", type=int, default=6, help="digits each student sends")
    parser.add_argument("--interval", type=float, default=8.0, help="seconds between one student's digits")
    parser.add_argument("--seconds", type=float, default=60.0, help="sending stops after this long")
    parser.add_argument("--idle", type=float, default=10.0, help="seconds with every page open before sending")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds one step of a page may take")
    parser.add_argument("--student-nice", type=int, default=15, help="the students' Chromium's nice value")
    parser.add_argument("--upload", action="store_true", help="upload one picture instead of drawing each digit")
    parser.add_argument(
        "--log", type=Path, help="keep the server's log here, and screenshots of failed sends beside it"
    )
    parser.add_argument("--postgres", action="store_true", help="the board on a throwaway PostgreSQL (fsync on)")
    args = parser.parse_args()
    if args.interval < BOARD_MIN_SECONDS_BETWEEN or not 1 <= args.sends <= BOARD_MAX_PER_SESSION:
        parser.error(
            f"--interval >= {BOARD_MIN_SECONDS_BETWEEN:g} s and 1 <= --sends <= {BOARD_MAX_PER_SESSION}: "
            "this measures load, not the board's limits"
        )
    run_dir = find_run(args.run)
    with contextlib.ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="board-load-")))
        if args.postgres:
            url = stack.enter_context(throwaway_cluster(durable=True)).new_database()
        else:
            url = f"sqlite:///{folder / 'board.db'}"
        server = AppServer(run_dir=run_dir, runs_dir=folder / "runs", log=args.log or folder / "streamlit.log")
        server.env[URL_ENV] = url
        print(f"run {run_dir}; board {url}; {load()} at start", flush=True)
        with server:
            figures = asyncio.run(hall(args, server))
            return report(args, server, figures, url)


if __name__ == "__main__":
    sys.exit(main())
