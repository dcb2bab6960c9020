"""The class board's store on both backends: round trip, restart, limits, hostile input, concurrency, the 15-NN share."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from tests import pg_cluster
from tests.pg_cluster import cluster_or_skip
from vae import limits
from vae.board import Board, BoardError, BoardLimits, default_url, landed_share, new_session_id

CHECKOUT = Path(__file__).resolve().parents[1]
RUN = "pretrained/elbo-kl1"
KNOWN = {RUN, "runs/other"}
CODE = (np.array([0.5, -1.25], np.float32), np.array([-3.0, -2.5], np.float32))


class FakeClock:
    def __init__(self, now: float = 1_700_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture(scope="module")
def postgres():
    with cluster_or_skip() as cluster:
        yield cluster


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'board' / 'board.db'}"
    return request.getfixturevalue("postgres").new_database()


@pytest.fixture
def open_board(url):
    """open_board(**kwargs) -> a Board on this test's store; all closed afterwards."""
    opened = []

    def _open(**kwargs) -> Board:
        opened.append(Board(url, **kwargs))
        return opened[-1]

    yield _open
    for board in opened:
        board.close()


def send(board: Board, session: str | None = None, digit: int = 4, name: str = "default", **overrides) -> int:
    arguments = {"pixels": np.full(784, 0.5), "run": RUN, "code": CODE, "known_runs": KNOWN} | overrides
    return board.submit(name, session or new_session_id(), digit, **arguments)


# ------------------------------------------------------------------ round trip and restart


def test_a_submission_comes_back_as_sent(open_board):
    clock = FakeClock()
    board = open_board(clock=clock)
    pixels = np.random.default_rng(0).random((28, 28))
    session = new_session_id()
    wide_code = (np.linspace(-4, 4, 16), np.linspace(-9, 1, 16))
    first = board.submit("default", session, 7, pixels, RUN, CODE, known_runs=KNOWN)
    clock.advance(limits.BOARD_MIN_SECONDS_BETWEEN)
    second = board.submit("default", session, 2, pixels.reshape(784), "runs/other", wide_code, known_runs=KNOWN)
    got = board.get(first)
    assert (got.id, got.board, got.session_id, got.digit, got.run, got.hidden) == (
        first,
        "default",
        session,
        7,
        RUN,
        False,
    )
    assert got.time == clock.now - limits.BOARD_MIN_SECONDS_BETWEEN
    assert got.pixels.shape == (28, 28) and np.abs(got.pixels - pixels).max() <= 1 / 510 + 1e-7
    np.testing.assert_array_equal(got.z_mean, CODE[0])
    np.testing.assert_array_equal(got.z_log_var, CODE[1])
    np.testing.assert_array_equal(board.get(second).z_mean, wide_code[0].astype(np.float32))  # every latent value
    assert second > first
    assert [s.id for s in board.all("default")] == [first, second]
    assert [s.id for s in board.since("default", first)] == [second]
    assert board.since("default", second) == []
    assert board.counts("default") == {d: int(d in (7, 2)) for d in range(10)}
    assert board.get(second + 1000) is None and board.all("elsewhere") == []


def test_a_new_board_object_on_the_same_url_sees_everything(open_board, url):
    board = open_board()
    ids = [send(board, digit=d) for d in range(3)]
    board.set_run("default", "runs/other", known_runs=KNOWN)
    board.hide(ids[0])
    board.close()
    restarted = open_board()
    assert [s.id for s in restarted.all("default", include_hidden=True)] == ids
    assert restarted.run("default") == "runs/other"
    assert restarted.revision("default") == 2
    if url.startswith("sqlite"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as raw:
            assert raw.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_the_default_store_is_sqlite_beside_runs_and_the_variable_moves_it(tmp_path, monkeypatch):
    monkeypatch.setenv("VAE_RUNS_DIR", str(tmp_path / "lecture" / "runs"))
    monkeypatch.delenv("VAE_BOARD_URL", raising=False)
    assert default_url() == f"sqlite:///{tmp_path / 'lecture' / 'board' / 'board.db'}"
    Board().close()
    assert (tmp_path / "lecture" / "board" / "board.db").exists()
    monkeypatch.setenv("VAE_BOARD_URL", f"sqlite:///{tmp_path / 'elsewhere.db'}")
    Board().close()
    assert (tmp_path / "elsewhere.db").exists()


def test_urls_that_cannot_hold_a_board_are_refused(tmp_path):
    for url in ("sqlite://", "sqlite:///:memory:", "mysql://user@host/db"):
        with pytest.raises(BoardError, match="memory|sqlite:/// or postgresql"):
            Board(url)
    with pytest.raises(BoardError, match="failed"):  # nothing listens on port 1
        Board("postgresql://nobody@127.0.0.1:1/board")


def test_the_bare_postgresql_scheme_uses_psycopg(postgres):
    board = Board(postgres.new_database().replace("postgresql+psycopg://", "postgresql://"))
    assert board.url.startswith("postgresql+psycopg://") and send(board) == 1
    board.close()


# ------------------------------------------------------------------ presenter actions


def test_hide_and_clear_change_what_the_board_shows_and_its_revision(open_board):
    board = open_board()
    ids = [send(board, digit=d) for d in (1, 1, 2)]
    other = send(board, name="room-b")
    assert board.revision("default") == 0
    assert board.hide(ids[0]) and board.revision("default") == 1
    assert [s.id for s in board.all("default")] == ids[1:]
    assert [s.id for s in board.since("default", 0)] == ids[1:]
    assert board.counts("default")[1] == 1
    assert board.get(ids[0]).hidden and len(board.all("default", include_hidden=True)) == 3
    assert board.hide(ids[0], hidden=False) and board.counts("default")[1] == 2
    assert not board.hide(other + 1000)
    assert board.clear("default") == 3 and board.all("default", include_hidden=True) == []
    assert board.revision("default") == 3
    assert [s.id for s in board.all("room-b")] == [other]  # another board is untouched
    assert send(board) > other  # ids are never reused, so a page's since(last_id) stays right


def test_the_board_run_is_chosen_among_known_runs(open_board):
    board = open_board()
    assert board.run("default") is None
    board.set_run("default", RUN, known_runs=KNOWN)
    assert board.run("default") == RUN and board.revision("default") == 1
    with pytest.raises(BoardError, match="not a model"):
        board.set_run("default", "runs/../../etc", known_runs=KNOWN)
    assert board.run("default") == RUN


# ------------------------------------------------------------------ limits, with a fake clock


def test_one_submission_per_session_every_few_seconds(open_board):
    clock = FakeClock()
    board = open_board(clock=clock)
    session = new_session_id()
    send(board, session)
    clock.advance(limits.BOARD_MIN_SECONDS_BETWEEN - 0.5)
    with pytest.raises(BoardError, match=f"one digit every {limits.BOARD_MIN_SECONDS_BETWEEN:g} s: try again in 0.5 s"):
        send(board, session)
    send(board)  # another student is not held up
    clock.advance(0.5)
    send(board, session)
    assert len(board.all("default")) == 3


def test_a_session_may_send_only_so_many_digits_to_one_board(open_board):
    clock = FakeClock()
    board = open_board(clock=clock)
    session = new_session_id()
    for _ in range(limits.BOARD_MAX_PER_SESSION):
        send(board, session)
        clock.advance(limits.BOARD_MIN_SECONDS_BETWEEN)
    with pytest.raises(BoardError, match=f"sent {limits.BOARD_MAX_PER_SESSION} digits"):
        send(board, session)
    send(board, session, name="room-b")  # the limit is per board
    assert len(board.all("default")) == limits.BOARD_MAX_PER_SESSION


def test_a_full_board_refuses_until_cleared(open_board):
    board = open_board(limits=BoardLimits(max_submissions=3))
    ids = [send(board) for _ in range(3)]
    board.hide(ids[0])  # hidden ones still count: hiding is no way round the limit
    with pytest.raises(BoardError, match="the board is full"):
        send(board)
    assert BoardLimits().max_submissions == limits.BOARD_MAX_SUBMISSIONS
    board.clear("default")
    send(board)


# ------------------------------------------------------------------ hostile input (the server's own checks)

HOSTILE_PIXELS = {
    "NaN": np.r_[np.full(783, 0.5), np.nan],
    "infinity": np.r_[np.full(783, 0.5), np.inf],
    "below 0": np.r_[np.full(783, 0.5), -1.0],
    "above 1": np.r_[np.full(783, 0.5), 2.0],
    "uint8 0-255": np.full(784, 255, np.uint8),
    "783 values": np.full(783, 0.5),
    "785 values": np.full(785, 0.5),
    "27x29": np.full((27, 29), 0.5),
    "strings": ["0.5"] * 784,
    "nested ragged": [[0.5] * 28] * 27 + [[0.5] * 29],
    "nested too deep": [[[0.5]] * 784],
    "booleans": [True] * 784,
    "None": None,
    "an object": {"pixels": [0.5] * 784},
    "complex": np.full(784, 0.5 + 0j),
}
HOSTILE_DIGITS = [True, False, np.bool_(True), "4", 4.0, -1, 10, None, [4]]
HOSTILE_SESSIONS = ["", "short", "x" * 65, "x" * 1_000_000, "has spaces in it!!", "ü" * 20, 12345678901234567890, None]
HOSTILE_CODES = [
    (np.array([np.nan, 0.0]), np.zeros(2)),
    (np.zeros(2), np.array([0.0, np.inf])),
    (np.zeros(2), np.zeros(3)),
    (np.zeros(2),),
    (["a", "b"], ["c", "d"]),
    (np.zeros(0), np.zeros(0)),
    (np.zeros(limits.MAX_LATENT_DIM + 1), np.zeros(limits.MAX_LATENT_DIM + 1)),
    "z",
]


@pytest.fixture(scope="module")
def sqlite_board(tmp_path_factory):
    board = Board(f"sqlite:///{tmp_path_factory.mktemp('hostile') / 'board.db'}")
    yield board
    assert board.all("default", include_hidden=True) == []  # nothing hostile got in
    board.close()


@pytest.mark.parametrize("pixels", HOSTILE_PIXELS.values(), ids=HOSTILE_PIXELS.keys())
def test_hostile_pixels_are_refused_with_a_message(sqlite_board, pixels):
    with pytest.raises(BoardError, match="image"):
        send(sqlite_board, pixels=pixels)


@pytest.mark.parametrize("digit", HOSTILE_DIGITS, ids=repr)
def test_a_digit_is_an_int_from_0_to_9(sqlite_board, digit):
    with pytest.raises(BoardError, match="0 to 9"):
        send(sqlite_board, digit=digit)


@pytest.mark.parametrize("session", HOSTILE_SESSIONS, ids=lambda s: repr(s)[:20])
def test_malformed_session_ids_are_refused(sqlite_board, session):
    with pytest.raises(BoardError, match="session id"):
        sqlite_board.submit("default", session, 4, np.zeros(784), RUN, CODE, known_runs=KNOWN)


@pytest.mark.parametrize("run", ["runs/unknown", "", None, 3, RUN + "x" * 500], ids=repr)
def test_only_known_runs_are_accepted(sqlite_board, run):
    with pytest.raises(BoardError, match="not a model this server knows"):
        send(sqlite_board, run=run)


@pytest.mark.parametrize("code", HOSTILE_CODES, ids=lambda c: repr(c)[:30])
def test_malformed_codes_are_refused(sqlite_board, code):
    with pytest.raises(BoardError, match="code|z_mean"):
        send(sqlite_board, code=code)


@pytest.mark.parametrize("name", ["", "../escape", "a" * 65, "with space", None])
def test_malformed_board_names_are_refused(sqlite_board, name):
    with pytest.raises(BoardError, match="board name"):
        send(sqlite_board, name=name)
    with pytest.raises(BoardError, match="board name"):
        sqlite_board.all(name)


@pytest.mark.parametrize("bad_id", ["1", True, 1.0, None])
def test_ids_from_a_page_must_be_whole_numbers(sqlite_board, bad_id):
    with pytest.raises(BoardError, match="whole number"):
        sqlite_board.get(bad_id)
    with pytest.raises(BoardError, match="whole number"):
        sqlite_board.since("default", bad_id)


def test_numpy_integers_are_digits_and_ids(sqlite_board):
    board_id = send(sqlite_board, digit=np.int64(4), name="numpy")
    assert sqlite_board.get(np.int64(board_id)).digit == 4
    assert sqlite_board.clear("numpy") == 1


# ------------------------------------------------------------------ concurrency: two servers, many threads


def race(count: int, submit) -> tuple[list[int], list[str]]:
    """Run submit(i) in `count` threads released at once; returns the ids stored and the refusals' messages."""
    barrier, ids, refusals, lock = threading.Barrier(count), [], [], threading.Lock()

    def worker(index: int) -> None:
        barrier.wait()
        try:
            submission_id = submit(index)
            with lock:
                ids.append(submission_id)
        except BoardError as err:
            with lock:
                refusals.append(str(err))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return ids, refusals


def test_twenty_students_at_once_lose_nothing(open_board):
    servers = [open_board(), open_board()]
    ids, refusals = race(20, lambda i: send(servers[i % 2], digit=i % 10))
    assert refusals == [] and len(set(ids)) == 20
    assert sorted(s.id for s in servers[0].all("default")) == sorted(ids)


@pytest.mark.parametrize(
    ("board_limits", "one_session", "accepted", "message"),
    [
        (BoardLimits(max_submissions=10), False, 10, "the board is full"),
        (BoardLimits(), True, 1, "one digit every"),
        (BoardLimits(min_seconds_between=0, max_per_session=5), True, 5, "digits to this board"),
    ],
    ids=["per board", "rate per session", "count per session"],
)
def test_limits_hold_when_twenty_arrive_at_once(open_board, board_limits, one_session, accepted, message):
    clock = FakeClock()  # frozen: however slow the threads, they all arrive "at once"
    servers = [open_board(limits=board_limits, clock=clock), open_board(limits=board_limits, clock=clock)]
    session = new_session_id()
    ids, refusals = race(20, lambda i: send(servers[i % 2], session if one_session else None))
    assert len(ids) == accepted and len(refusals) == 20 - accepted
    assert all(message in refusal for refusal in refusals)
    assert len(servers[0].all("default")) == accepted


def test_a_polling_page_sees_every_row_committed_while_it_polls(open_board):
    board, page = open_board(), open_board()
    seen, done = [], threading.Event()

    def poll() -> None:
        last = 0
        while True:
            finished = done.is_set()  # read before the query: the last poll runs after every commit
            for submission in page.since("default", last):
                seen.append(submission.id)
                last = submission.id
            if finished:
                return
            time.sleep(0.01)

    poller = threading.Thread(target=poll)
    poller.start()
    ids, _ = race(20, lambda i: send(board))
    done.set()
    poller.join(timeout=60)
    assert seen == sorted(ids) and len(ids) == 20


SERVER_PROCESS = """
import sys, threading, time
import numpy as np
from vae.board import Board, BoardError, BoardLimits, new_session_id
board = Board(sys.argv[1], limits=BoardLimits(max_submissions=15))
accepted = []
def student():
    time.sleep(max(0.0, float(sys.argv[2]) - time.time()))
    try:
        accepted.append(board.submit("default", new_session_id(), 4, np.zeros(784), "r", ([0, 0], [0, 0]), known_runs={"r"}))
    except BoardError:
        pass
threads = [threading.Thread(target=student) for _ in range(10)]
[thread.start() for thread in threads]
[thread.join() for thread in threads]
print(len(accepted))
"""


def test_two_server_processes_share_one_board_and_its_limit(url):
    start_at = str(time.time() + 3)  # both processes importing first, then twenty submissions at once
    servers = [
        subprocess.Popen(
            [sys.executable, "-c", SERVER_PROCESS, url, start_at], stdout=subprocess.PIPE, text=True, cwd=CHECKOUT
        )
        for _ in range(2)
    ]
    accepted = [int(server.communicate(timeout=120)[0]) for server in servers]
    board = Board(url)
    assert sum(accepted) == 15 == len(board.all("default"))
    board.close()


def test_missing_postgresql_skips_locally_and_fails_in_ci(monkeypatch):
    def no_binaries():
        raise pg_cluster.PostgresUnavailable("no PostgreSQL here")

    monkeypatch.setattr(pg_cluster, "bin_dir", no_binaries)
    monkeypatch.setattr(pg_cluster, "IN_CI", False)
    with pytest.raises(pytest.skip.Exception, match="no PostgreSQL here"), cluster_or_skip():
        pass
    monkeypatch.setattr(pg_cluster, "IN_CI", True)
    with pytest.raises(pytest.fail.Exception, match="CI=true"), cluster_or_skip():
        pass


# ------------------------------------------------------------------ the 15-NN share


def test_landed_share_counts_the_submissions_whose_neighbours_vote_for_their_digit():
    rng = np.random.default_rng(0)
    test_labels = np.repeat(np.arange(10), 50)
    test_means = np.c_[test_labels * 10.0, np.zeros(500)] + rng.normal(0, 0.5, (500, 2))
    codes = np.array([[40.0, 0.0], [40.5, 0.2], [70.0, 0.0], [10.0, 0.0]])
    digits = np.array([4, 4, 4, 1])
    assert landed_share(codes, digits, test_means, test_labels) == {4: pytest.approx(2 / 3), 1: 1.0}
    assert landed_share(np.zeros((0, 2)), np.zeros(0, int), test_means, test_labels) == {}
