"""A hall of students sending digits to one board's store while the board page polls it (no browser).

    python tests/stress/board_store_load.py [--students 40] [--seconds 60] [--interval 4] [--servers 2]
    python tests/stress/board_store_load.py --postgres          # a throwaway PostgreSQL cluster, fsync on
    python tests/stress/board_store_load.py --url postgresql+psycopg://user@host/db

Each student is a thread with a session id of its own, sending a digit every --interval seconds
(the first at a random moment within one interval) through one of --servers Board objects (an app
server each: its own engine and connection pool). A poller thread, the board page, asks its own
Board for ``since(last_id)`` every BOARD_POLL_SECONDS, as the page does. The default store is a
SQLite file in a fresh temporary folder, never the lecture's own board.

Reported: sends, accepted, refused (by message) and failed (any other exception: lost);
lost = accepted ids missing from the store + failed sends (must be 0); visible-after-send latency
(from the start of submit() to the poll that first returned the row; p50, p95, max); submit()
latency; this process's CPU seconds and peak RSS (psutil; the page's rendering is not in it), and
with --postgres the database server's CPU seconds too.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import numpy as np
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run as a script: vae and tests.* from the checkout

from tests.pg_cluster import throwaway_cluster  # noqa: E402
from vae.board import Board, BoardError, new_session_id  # noqa: E402
from vae.limits import BOARD_MIN_SECONDS_BETWEEN, BOARD_POLL_SECONDS  # noqa: E402

RUN = "pretrained/elbo-kl1"


class Hall:
    """The shared record of one load run: what each student sent and when the page first saw it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.sent_at: dict[int, float] = {}  # id -> perf_counter at the start of submit()
        self.submit_seconds: list[float] = []
        self.seen_at: dict[int, float] = {}
        self.sends = 0
        self.refused: Counter[str] = Counter()
        self.failed: Counter[str] = Counter()


def student(hall: Hall, server: Board, board: str, seed: int, interval: float, stop_at: float) -> None:
    rng = np.random.default_rng(seed)
    session = new_session_id()
    next_send = time.perf_counter() + rng.uniform(0, interval)
    while (now := time.perf_counter()) < stop_at:
        if now < next_send:
            time.sleep(min(next_send - now, stop_at - now))
            continue
        code = (rng.normal(size=2), rng.normal(-2.0, 0.5, size=2))
        start = time.perf_counter()
        try:
            submission_id = server.submit(
                board, session, int(rng.integers(10)), rng.random((28, 28)), RUN, code, known_runs={RUN}
            )
        except BoardError as err:
            with hall.lock:
                hall.sends += 1
                hall.refused[str(err)] += 1
        except Exception as err:  # anything but a refusal loses the digit: counted, never hidden
            with hall.lock:
                hall.sends += 1
                hall.failed[f"{type(err).__name__}: {err}"[:200]] += 1
        else:
            with hall.lock:
                hall.sends += 1
                hall.sent_at[submission_id] = start
                hall.submit_seconds.append(time.perf_counter() - start)
        next_send += interval


def board_page(hall: Hall, page: Board, board: str, done: threading.Event) -> None:
    """Poll like the board page: reread everything when the revision moves, else only the new rows."""
    last_id, revision = 0, page.revision(board)
    while not done.is_set():
        if (now_revision := page.revision(board)) != revision:
            revision, last_id = now_revision, 0
        rows = page.since(board, last_id)
        seen = time.perf_counter()
        with hall.lock:
            for row in rows:
                hall.seen_at.setdefault(row.id, seen)
        if rows:
            last_id = rows[-1].id
        done.wait(BOARD_POLL_SECONDS)


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def database_cpu_seconds(postmaster_pid: int | None) -> float | None:
    if postmaster_pid is None:
        return None
    server = psutil.Process(postmaster_pid)
    total = 0.0
    for process in [server, *server.children(recursive=True)]:
        try:
            times = process.cpu_times()
            total += times.user + times.system
        except psutil.NoSuchProcess:
            pass
    return total


def run(url: str, args: argparse.Namespace, postmaster_pid: int | None = None) -> int:
    board = f"load-{int(time.time())}"
    servers = [Board(url) for _ in range(args.servers)]
    page = Board(url)
    hall, done, me = Hall(), threading.Event(), psutil.Process()
    cpu_before, db_before = me.cpu_times(), database_cpu_seconds(postmaster_pid)
    peak_rss = me.memory_info().rss
    poller = threading.Thread(target=board_page, args=(hall, page, board, done), daemon=True)
    poller.start()
    started = time.perf_counter()
    stop_at = started + args.seconds
    students = [
        threading.Thread(target=student, args=(hall, servers[i % args.servers], board, i, args.interval, stop_at))
        for i in range(args.students)
    ]
    for thread in students:
        thread.start()
    while any(thread.is_alive() for thread in students):
        peak_rss = max(peak_rss, me.memory_info().rss)
        time.sleep(0.25)
    sending_seconds = time.perf_counter() - started
    deadline = time.perf_counter() + 10 * BOARD_POLL_SECONDS  # the page's last polls
    while time.perf_counter() < deadline and not set(hall.sent_at) <= set(hall.seen_at):
        time.sleep(0.1)
    done.set()
    poller.join()
    cpu_after, wall = me.cpu_times(), time.perf_counter() - started
    cpu_seconds = (cpu_after.user + cpu_after.system) - (cpu_before.user + cpu_before.system)
    stored = {row.id for row in page.all(board, include_hidden=True)}
    accepted = set(hall.sent_at)
    lost = len(accepted - stored) + sum(hall.failed.values())
    visible = [hall.seen_at[i] - hall.sent_at[i] for i in accepted if i in hall.seen_at]

    print(f"store            {page.url}")
    print(f"students         {args.students} through {args.servers} Board objects, one every {args.interval:g} s each")
    print(f"sends            {hall.sends} in {sending_seconds:.1f} s; accepted {len(accepted)}, stored {len(stored)}")
    for message, count in hall.refused.most_common():
        print(f"refused          {count} x {message}")
    for message, count in hall.failed.most_common():
        print(f"FAILED           {count} x {message}")
    print(f"lost             {lost}")
    print(f"never seen       {len(accepted - set(hall.seen_at))} by the polling page")
    print(
        f"visible after    p50 {percentile(visible, 50):.3f} s, p95 {percentile(visible, 95):.3f} s, "
        f"max {max(visible, default=float('nan')):.3f} s (poll every {BOARD_POLL_SECONDS:g} s)"
    )
    print(
        f"submit() takes   p50 {1000 * percentile(hall.submit_seconds, 50):.1f} ms, "
        f"p95 {1000 * percentile(hall.submit_seconds, 95):.1f} ms"
    )
    print(f"this process     {cpu_seconds:.2f} CPU s in {wall:.1f} s ({100 * cpu_seconds / wall:.1f} % of one core)")
    print(f"peak RSS         {peak_rss / 2**20:.0f} MB")
    if db_before is not None:
        db_seconds = database_cpu_seconds(postmaster_pid) - db_before
        print(f"database server  {db_seconds:.2f} CPU s ({100 * db_seconds / wall:.1f} % of one core)")
    for board_object in [*servers, page]:
        board_object.close()
    return 1 if lost or accepted - set(hall.seen_at) else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="the store (default: SQLite in a fresh temporary folder)")
    parser.add_argument("--postgres", action="store_true", help="a throwaway PostgreSQL cluster (fsync on)")
    parser.add_argument("--students", type=int, default=40)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--interval", type=float, default=4.0, help="seconds between one student's digits")
    parser.add_argument("--servers", type=int, default=2, help="Board objects the students are spread over")
    args = parser.parse_args()
    if args.interval < BOARD_MIN_SECONDS_BETWEEN:
        parser.error(f"--interval below the board's {BOARD_MIN_SECONDS_BETWEEN:g} s measures refusals, not load")
    if args.postgres:
        with throwaway_cluster(durable=True) as cluster:
            postmaster = int((cluster.data / "postmaster.pid").read_text().split()[0])
            return run(cluster.new_database(), args, postmaster)
    if args.url:
        return run(args.url, args)
    with tempfile.TemporaryDirectory(prefix="board-load-") as folder:
        return run(f"sqlite:///{folder}/board.db", args)


if __name__ == "__main__":
    sys.exit(main())
