"""The board's store: every submission in one SQL database, chosen by a URL (SQLAlchemy Core).

``sqlite:///path/board.db`` (the default, beside runs/) needs no set-up and serves one machine,
several server processes included; ``postgresql+psycopg://user:pass@host/db`` serves several
machines. The limits hold across all of them because each submission counts and inserts inside one
transaction that holds its board's lock: SQLite's BEGIN IMMEDIATE takes the database's write lock
before the first read; PostgreSQL locks the board's settings row (SELECT ... FOR UPDATE). The same
lock makes ids grow in commit order within a board, so a page that asks for ``since(last_id)``
never skips a row committed late. Clearing, hiding and choosing the run raise the board's revision,
which tells a polling page to read the whole board again.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sqlalchemy import create_engine, event, func, insert, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError

from vae import catalog
from vae.board import validate as v
from vae.board.schema import Submission, boards, from_row, metadata, submissions
from vae.board.validate import BoardError
from vae.limits import BOARD_MAX_PER_SESSION, BOARD_MAX_SUBMISSIONS, BOARD_MIN_SECONDS_BETWEEN

URL_ENV = "VAE_BOARD_URL"
SQLITE_BUSY_TIMEOUT_S = 30  # a writer waits this long for the lock; each holds it for one short transaction
_SCHEMA_LOCK = 0x7661655F626F6172  # PostgreSQL advisory lock id ("vae_boar"): servers starting together
_WRITE = "board_write"  # execution option: this transaction writes (SQLite: BEGIN IMMEDIATE)


@dataclass(frozen=True)
class BoardLimits:
    """The limits a board enforces; vae.limits holds the numbers, tests pass smaller ones."""

    min_seconds_between: float = BOARD_MIN_SECONDS_BETWEEN  # per session on a board
    max_per_session: int = BOARD_MAX_PER_SESSION
    max_submissions: int = BOARD_MAX_SUBMISSIONS  # per board, hidden ones included


def default_url() -> str:
    """SQLite in board/ beside the runs folder (which VAE_RUNS_DIR may move)."""
    return f"sqlite:///{catalog.roots()['runs'].resolve().parent / 'board' / 'board.db'}"


def board_url() -> str:
    """$VAE_BOARD_URL, else the SQLite default."""
    return os.environ.get(URL_ENV) or default_url()


class Board:
    """All boards in one store. Thread-safe: one Board per server process is enough."""

    def __init__(
        self, url: str | None = None, limits: BoardLimits = BoardLimits(), clock: Callable[[], float] = time.time
    ):
        self.limits, self._clock = limits, clock
        parsed = make_url(url or board_url())
        if parsed.drivername == "postgresql":  # the bare scheme means psycopg2 to SQLAlchemy; we ship psycopg 3
            parsed = parsed.set(drivername="postgresql+psycopg")
        self.backend = parsed.get_backend_name()
        if self.backend == "sqlite":
            if not parsed.database or parsed.database == ":memory:" or parsed.database.startswith("file:"):
                raise BoardError(
                    "board.sqlite_memory",
                    "a SQLite board needs a file path (sqlite:///path/board.db): memory would lose it",
                )
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            self.engine = create_engine(parsed, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S})
            _sqlite_transactions(self.engine)
        elif self.backend == "postgresql":
            self.engine = create_engine(parsed, pool_pre_ping=True)  # a restarted database server is found again
        else:
            raise BoardError(
                "board.bad_url", "the board stores in sqlite:/// or postgresql:// URLs, not {driver}://",
                driver=parsed.drivername,
            )  # fmt: skip
        self.url = parsed.render_as_string(hide_password=True)
        self._writer = self.engine.execution_options(**{_WRITE: True})
        with self._errors(), self._writer.begin() as conn:
            if self.backend == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SCHEMA_LOCK})
            metadata.create_all(conn)

    def __repr__(self) -> str:
        return f"Board({self.url!r})"

    def close(self) -> None:
        self.engine.dispose()

    # ------------------------------------------------------------------ students

    def submit(
        self,
        board: str,
        session_id: str,
        digit: int,
        pixels: object,
        run: str,
        code: tuple[object, object],
        *,
        known_runs: Collection[str],
    ) -> int:
        """Store one digit and return its id, or raise BoardError saying which check or limit refused it."""
        row = {
            "board": v.check_board(board),
            "session_id": v.check_session_id(session_id),
            "digit": v.check_digit(digit),
            "pixels": v.pixels_to_bytes(v.check_pixels(pixels)),
            "run": v.check_run(run, known_runs),
            "hidden": False,
        }
        z_mean, z_log_var = v.check_code(code)
        row |= {"z_mean": v.code_to_bytes(z_mean), "z_log_var": v.code_to_bytes(z_log_var)}
        now = self._clock()  # when it arrived, not when the lock came free: the rate is the student's pace
        with self._errors(), self._writer.begin() as conn:
            self._lock(conn, board)
            self._check_limits(conn, board, session_id, now)
            return int(conn.execute(insert(submissions).values(time=now, **row)).inserted_primary_key[0])

    def _check_limits(self, conn: Connection, board: str, session_id: str, now: float) -> None:
        limits, on_board = self.limits, submissions.c.board == board
        if conn.scalar(select(func.count()).where(on_board)) >= limits.max_submissions:
            raise BoardError(
                "board.full", "the board is full ({most:,} digits): the presenter can clear it",
                most=limits.max_submissions,
            )  # fmt: skip
        mine = on_board & (submissions.c.session_id == session_id)
        sent, last = conn.execute(select(func.count(), func.max(submissions.c.time)).where(mine)).one()
        if sent >= limits.max_per_session:
            raise BoardError(
                "board.session_limit", "you have sent {most} digits to this board, the most one page may send",
                most=limits.max_per_session,
            )  # fmt: skip
        if last is not None and now - last < limits.min_seconds_between:
            wait = min(limits.min_seconds_between, limits.min_seconds_between - (now - last))
            raise BoardError(
                "board.too_soon", "one digit every {seconds:g} s: try again in {wait:.1f} s",
                seconds=limits.min_seconds_between, wait=wait,
            )  # fmt: skip

    # ------------------------------------------------------------------ the board page

    def since(self, board: str, after_id: int, include_hidden: bool = False) -> list[Submission]:
        """Submissions with id > after_id, oldest first: what a polling page has not seen yet."""
        if isinstance(after_id, bool) or not isinstance(after_id, int | np.integer):
            raise BoardError("board.bad_after_id", "after_id must be a whole number")
        return self._select(board, include_hidden, submissions.c.id > int(after_id))

    def all(self, board: str, include_hidden: bool = False) -> list[Submission]:
        return self._select(board, include_hidden)

    def counts(self, board: str) -> dict[int, int]:
        """Visible submissions per intended digit, all ten digits present."""
        query = (
            select(submissions.c.digit, func.count())
            .where((submissions.c.board == v.check_board(board)) & submissions.c.hidden.is_(False))
            .group_by(submissions.c.digit)
        )
        with self._errors(), self.engine.connect() as conn:
            found = dict(conn.execute(query).all())
        return {digit: int(found.get(digit, 0)) for digit in range(10)}

    def get(self, submission_id: int) -> Submission | None:
        with self._errors(), self.engine.connect() as conn:
            row = conn.execute(select(submissions).where(submissions.c.id == _check_id(submission_id))).first()
        return None if row is None else from_row(row)

    def revision(self, board: str) -> int:
        """Grows whenever rows change other than by a new submission (clear, hide, run): then reread all()."""
        with self._errors(), self.engine.connect() as conn:
            found = conn.scalar(select(boards.c.revision).where(boards.c.name == v.check_board(board)))
        return int(found or 0)

    def run(self, board: str) -> str | None:
        """The run the presenter chose for this board, or None if none was chosen."""
        with self._errors(), self.engine.connect() as conn:
            return conn.scalar(select(boards.c.run).where(boards.c.name == v.check_board(board)))

    # ------------------------------------------------------------------ presenter actions (vae.presenter guards them)

    def hide(self, submission_id: int, hidden: bool = True) -> bool:
        """Hide (or show again) one submission; False if there is no such id."""
        submission = self.get(submission_id)
        if submission is None:
            return False
        with self._errors(), self._writer.begin() as conn:
            self._lock(conn, submission.board)  # the board first, as submit and clear do: no deadlock
            changed = conn.execute(
                update(submissions).where(submissions.c.id == submission.id).values(hidden=bool(hidden))
            ).rowcount
            self._bump(conn, submission.board)
        return changed == 1

    def clear(self, board: str) -> int:
        """Delete every submission on the board (its run stays); returns how many."""
        with self._errors(), self._writer.begin() as conn:
            self._lock(conn, v.check_board(board))
            deleted = conn.execute(submissions.delete().where(submissions.c.board == board)).rowcount
            self._bump(conn, board)
        return deleted

    def set_run(self, board: str, run: str, *, known_runs: Collection[str]) -> None:
        run = v.check_run(run, known_runs)
        with self._errors(), self._writer.begin() as conn:
            self._lock(conn, v.check_board(board))
            conn.execute(update(boards).where(boards.c.name == board).values(run=run, revision=boards.c.revision + 1))

    # ------------------------------------------------------------------ internals

    def _lock(self, conn: Connection, board: str) -> None:
        """Make the board's settings row if needed and lock it until the transaction ends."""
        dialect_insert = postgresql.insert if self.backend == "postgresql" else sqlite.insert
        conn.execute(dialect_insert(boards).values(name=board, revision=0).on_conflict_do_nothing())
        conn.execute(select(boards.c.name).where(boards.c.name == board).with_for_update())  # SQLite: BEGIN IMMEDIATE

    @staticmethod
    def _bump(conn: Connection, board: str) -> None:
        conn.execute(update(boards).where(boards.c.name == board).values(revision=boards.c.revision + 1))

    def _select(self, board: str, include_hidden: bool, *where) -> list[Submission]:
        query = select(submissions).where(submissions.c.board == v.check_board(board), *where)
        if not include_hidden:
            query = query.where(submissions.c.hidden.is_(False))
        with self._errors(), self.engine.connect() as conn:
            return [from_row(row) for row in conn.execute(query.order_by(submissions.c.id))]

    @contextlib.contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except DBAPIError as err:  # the database is down, locked for too long, its disk full, ...
            reason = str(err.orig).strip().splitlines()[0] if err.orig else type(err).__name__
            raise BoardError(
                "board.store_failed", "the board's store ({url}) failed: {reason}", url=self.url, reason=reason
            ) from err


def _check_id(submission_id: object) -> int:
    if isinstance(submission_id, bool) or not isinstance(submission_id, int | np.integer):
        raise BoardError("board.bad_id", "a submission id is a whole number")
    return int(submission_id)


def _sqlite_transactions(engine) -> None:
    """WAL (readers never wait for the writer), a busy timeout, full fsync, and our own BEGIN:
    pysqlite's implicit BEGIN is DEFERRED, which lets two writers both read the old count."""

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None  # no implicit BEGIN; the "begin" hook below issues it
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_S * 1000}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = FULL")  # a commit survives a power cut, not only a crash
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(_WRITE) else "BEGIN")
