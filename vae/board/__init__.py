"""The class board: students send a drawn digit and the digit they meant; the projector shows them all.

- ``validate``: what the server accepts from a student's page (untrusted), and BoardError.
- ``schema``: the tables, and Submission, what a stored digit is.
- ``store``: the Board store (SQLite beside runs/, or PostgreSQL for several servers) and its limits.
- ``share``: the share of each digit's submissions that landed among that digit's test codes.

Presenter actions (clear, hide, choose the run) are guarded by vae.presenter in the page.
"""

from vae.board.share import landed_share
from vae.board.store import URL_ENV, Board, BoardLimits, Submission, board_url, default_url
from vae.board.validate import DEFAULT_BOARD, BoardError, new_session_id

__all__ = [
    "DEFAULT_BOARD",
    "URL_ENV",
    "Board",
    "BoardError",
    "BoardLimits",
    "Submission",
    "board_url",
    "default_url",
    "landed_share",
    "new_session_id",
]
