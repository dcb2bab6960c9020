"""The class board in the page: the store, this session's id, the board's run, and what the board page shows.

- ``store()``: one vae.board.Board per server process (st.cache_resource), on $VAE_BOARD_URL or the
  SQLite default beside runs/. Several processes, even several machines, share a board through it.
- ``session_id()``: a random id per browser session (no name, no account), kept under a key no
  widget uses, so no page can send a value for it.
- ``board_run(runs)``: the run whose latent map the board shows: the presenter's choice, else the
  default run, else the first one that opens.
- ``live()``: the board as this process last read it, kept current by the store's polling protocol
  (reread everything when the revision moved, else append ``since(last_id)``); one copy shared by
  every board page of the process, so a hall of phones on /board costs one copy and cheap queries.
- ``placed(...)``: the submissions' codes in the board run's latent space, and the 15-NN vote.

The student's panel is vae/ui/board_send.py, the board page's panels vae/ui/board_view.py.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
import streamlit as st

from vae import catalog
from vae.board import DEFAULT_BOARD, Board, BoardError, Submission, board_url, landed_share, new_session_id
from vae.io import Run
from vae.knn import knn_vote
from vae.ui import loaders

BOARD = DEFAULT_BOARD  # one board per store: a lecture hall has one projector
SESSION_KEY = "_board_session"  # underscore: no widget has this key, so no page can set it


@st.cache_resource(show_spinner=False)
def _open(url: str) -> Board:
    return Board(url)


def store() -> Board:
    """The process's Board. Raises BoardError when the store cannot be opened (a database that is down)."""
    return _open(board_url())


def session_id() -> str:
    if SESSION_KEY not in st.session_state:
        st.session_state[SESSION_KEY] = new_session_id()
    return st.session_state[SESSION_KEY]


def usable(runs: list[catalog.RunInfo]) -> dict[str, catalog.RunInfo]:
    return {info.name: info for info in runs if info.ok}


def board_run(runs: list[catalog.RunInfo], chosen: str | None) -> catalog.RunInfo | None:
    """The presenter's choice (``chosen``, from Board.run) if it still opens, else the default run, else any."""
    found = usable(runs)
    for name in (chosen, catalog.DEFAULT_RUN):
        if name in found:
            return found[name]
    return next(iter(found.values()), None)


@dataclass(frozen=True)
class Snapshot:
    """The visible submissions, oldest first; ``version`` grows whenever they or the chosen run change."""

    rows: tuple[Submission, ...]
    run: str | None
    version: int


class LiveBoard:
    """The board as this process last read it. Thread-safe: every session's poll goes through one lock."""

    def __init__(self, board: Board, name: str):
        self.board, self.name = board, name
        self._lock = threading.Lock()
        self._revision: int | None = None
        self._last_id = 0
        self._rows: list[Submission] = []
        self._run: str | None = None
        self._version = 0

    def refresh(self) -> Snapshot:
        """Two small queries when nothing happened; the whole board again only after clear, hide or a new run."""
        with self._lock:
            revision = self.board.revision(self.name)
            if revision != self._revision:
                self._rows = self.board.all(self.name)
                self._revision, self._run = revision, self.board.run(self.name)
                self._version += 1
            elif new := self.board.since(self.name, self._last_id):
                self._rows += new
                self._version += 1
            if self._rows:  # ids are never reused, so after a clear the last one seen still bounds the next
                self._last_id = max(self._last_id, self._rows[-1].id)
            return Snapshot(tuple(self._rows), self._run, self._version)


@st.cache_resource(show_spinner=False)
def _live(url: str, name: str) -> LiveBoard:
    return LiveBoard(_open(url), name)


def live() -> LiveBoard:
    return _live(board_url(), BOARD)


@dataclass(frozen=True)
class Placed:
    """The submissions on the board run's map: ids, what each student meant, codes (N, latent_dim), and for each
    digit the share whose 15 nearest test codes vote for it."""

    ids: np.ndarray
    digits: np.ndarray
    means: np.ndarray
    log_vars: np.ndarray
    shares: dict[int, float]


def placed(rows: tuple[Submission, ...], info: catalog.RunInfo, run: Run) -> Placed:
    """A digit sent while another run was on the board is encoded again by this run's encoder (its pixels are
    stored), so every marker lives in the latent space of the map it is drawn on."""
    latent_dim = run.config.latent_dim
    means = np.zeros((len(rows), latent_dim), np.float32)
    log_vars = np.zeros((len(rows), latent_dim), np.float32)
    stale = [i for i, row in enumerate(rows) if row.run != info.name or len(row.z_mean) != latent_dim]
    kept = set(range(len(rows))).difference(stale)
    for i in kept:
        means[i], log_vars[i] = rows[i].z_mean, rows[i].z_log_var
    if stale:
        pixels = np.stack([rows[i].pixels.reshape(-1) for i in stale])
        means[stale], log_vars[stale] = run.model.encode(pixels)
    digits = np.array([row.digit for row in rows], np.int64)
    shares = landed_share(means, digits, run.latents["mean"], run.latents["labels"])
    ids = np.array([row.id for row in rows], np.int64)
    return Placed(ids=ids, digits=digits, means=means, log_vars=log_vars, shares=shares)


def vote(mean: np.ndarray, run: Run) -> int:
    """The digit the 15 test codes nearest to one code vote for (the rule landed_share counts by)."""
    return int(knn_vote(np.asarray(mean)[None, :], run.latents["mean"], run.latents["labels"])[0])


def open_board_run(runs: list[catalog.RunInfo], chosen: str | None) -> tuple[catalog.RunInfo, Run] | None:
    """The board run and its model, or None when no run opens. Raises BoardError for a run that cannot load."""
    info = board_run(runs, chosen)
    if info is None:
        return None
    try:
        return info, loaders.run_of(info)
    except catalog.RunError as err:
        raise BoardError("board.run_unavailable", "{name}: {error}", name=info.name, error=err.message) from err
