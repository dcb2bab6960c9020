"""The board's tables, the one description of what a stored submission is (both backends).

A submission row: id (never reused), board name, time (seconds since the epoch, the server's
clock when it arrived), session id, intended digit, the 28 x 28 as 784 uint8 bytes, the code as
little-endian float32 bytes (z_mean and z_log_var, all latent_dim values), run name, hidden.
A settings row per board: its chosen run and its revision (raised by clear, hide and set_run).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Double,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
)

from vae.board import validate as v

metadata = MetaData()
submissions = Table(
    "board_submissions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("board", String(64), nullable=False),
    Column("time", Double, nullable=False),  # seconds since the epoch, the server's clock
    Column("session_id", String(64), nullable=False),
    Column("digit", SmallInteger, CheckConstraint("digit BETWEEN 0 AND 9"), nullable=False),
    Column("pixels", LargeBinary, nullable=False),  # 784 uint8 (validate.pixels_to_bytes says why)
    Column("run", String(v.MAX_RUN_NAME), nullable=False),
    Column("z_mean", LargeBinary, nullable=False),  # latent_dim little-endian float32
    Column("z_log_var", LargeBinary, nullable=False),
    Column("hidden", Boolean, nullable=False, default=False),
    Index("board_submissions_by_board", "board", "id"),
    Index("board_submissions_by_session", "board", "session_id", "time"),
    sqlite_autoincrement=True,  # ids are never reused after a clear, so since(last_id) stays right
)
boards = Table(
    "board_settings",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("run", String(v.MAX_RUN_NAME)),
    Column("revision", Integer, nullable=False, default=0),
)


@dataclass(frozen=True)
class Submission:
    id: int
    time: float
    board: str
    session_id: str
    digit: int
    pixels: np.ndarray  # (28, 28) float32 in [0, 1]
    run: str
    z_mean: np.ndarray  # (latent_dim,) float32
    z_log_var: np.ndarray
    hidden: bool


def from_row(row) -> Submission:
    """A submissions row (any SELECT of the whole table) -> Submission."""
    return Submission(
        id=row.id,
        time=row.time,
        board=row.board,
        session_id=row.session_id,
        digit=row.digit,
        pixels=v.pixels_from_bytes(row.pixels),
        run=row.run,
        z_mean=v.code_from_bytes(row.z_mean),
        z_log_var=v.code_from_bytes(row.z_log_var),
        hidden=bool(row.hidden),
    )
