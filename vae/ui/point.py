"""The latent point: where the sliders, the plane, the digit, the map's marker and the grid's ring point.

One rule for who moves it:
- The page moves it itself (a slider step, a drag or a key on the plane) and draws the digit at
  once; when the move ends the server hears it through ``heard``. The page is NOT told back: it
  already shows that point, and echoing it would pull a point the user has since moved on from.
- The server moves it (a map click or box, "move to my digit", a link, the reset) through
  ``move_to``, which counts the move (``moves``). The page applies a point from the server only
  when that count changes.
Every server move is a widget callback (``on_click``, ``on_select``, ``on_change``): a callback runs
before the script, the only moment the server sliders' state may be set, so no move is parked for a
later rerun. Panels read the point with ``here()`` and never write the keys below themselves.
"""

from __future__ import annotations

import math

import numpy as np
import streamlit as st

from vae.limits import Z_LIMIT
from vae.ui.widgets import fresh

Z_KEYS = ("z1", "z2")  # also the keys of the server sliders (runs with latent_dim > 2)
MOVES_KEY = "z_moves"
PICKED_KEY = "picked"  # the test-set row clicked on the map, or None
MAP_KEY = "scatter"  # the map chart's selection state (widgets.fresh(MAP_KEY): the reset clears it)


def here() -> tuple[float, float]:
    return float(st.session_state.get("z1", 0.0)), float(st.session_state.get("z2", 0.0))


def moves() -> int:
    return int(st.session_state.get(MOVES_KEY, 0))


def picked(n_codes: int) -> int | None:
    row = st.session_state.get(PICKED_KEY)
    return row if row is not None and 0 <= row < n_codes else None


def clip(value: float) -> float:
    return float(np.clip(value, -Z_LIMIT, Z_LIMIT))


def _store(z1: float, z2: float) -> None:
    st.session_state.z1, st.session_state.z2 = clip(z1), clip(z2)
    # The link in the address bar reopens this point (two decimals: the sliders' grid is 0.1).
    st.query_params.update({key: f"{st.session_state[key]:.2f}" for key in Z_KEYS})


def move_to(z1: float, z2: float, picked_row: int | None = None) -> None:
    """A move made by the server: clipped to the plane, counted, so the page follows."""
    _store(z1, z2)
    st.session_state[PICKED_KEY] = picked_row
    st.session_state[MOVES_KEY] = moves() + 1


def heard(point: tuple[float, float]) -> None:
    """A move made in the page (on release): remembered, not counted, so the page is not told back."""
    _store(*point)


def nudge(dz1: float, dz2: float) -> None:
    """A keyboard shortcut's step (a server move)."""
    z1, z2 = here()
    move_to(z1 + dz1, z2 + dz2)


def reset() -> None:
    """Back to the start: the origin, nothing picked."""
    move_to(0.0, 0.0)


def selection_target(selection: dict, means: np.ndarray) -> tuple[tuple[float, float], int | None] | None:
    """A plotly selection -> (point to move to, test-set row picked or None).

    A box jumps to its centre, so any spot of the map can be reached, even an empty one; a clicked
    point jumps to that test digit's code (its row travels in customdata).
    """
    for box in selection.get("box") or []:
        (x0, x1), (y0, y1) = box["x"][:2], box["y"][:2]
        return ((x0 + x1) / 2, (y0 + y1) / 2), None
    for point in selection.get("points") or []:
        row = point.get("customdata")
        row = row[0] if isinstance(row, list) else row
        if isinstance(row, int | float) and 0 <= int(row) < len(means):
            return (float(means[int(row), 0]), float(means[int(row), 1])), int(row)
    return None


def on_map_select(means: np.ndarray) -> None:
    """The map's on_select callback: a new click or box moves the point."""
    event = st.session_state.get(fresh(MAP_KEY))
    target = selection_target(event["selection"], means) if event and event.get("selection") else None
    if target is not None:
        move_to(*target[0], picked_row=target[1])


def from_query(params) -> bool:
    """The point from ?z1=&z2= (a link that reopens a state). False for a value that is not a pair of finite
    numbers: it is ignored (and dropped from the link), never an error."""
    raw = [params.get(key) for key in Z_KEYS]
    if raw == [None, None]:
        return True
    try:
        z1, z2 = (float(str(value)[:32]) for value in raw)
    except (TypeError, ValueError):
        z1 = z2 = math.nan
    if not (math.isfinite(z1) and math.isfinite(z2)):
        for key in Z_KEYS:
            params.pop(key, None)
        return False
    move_to(z1, z2)
    return True
