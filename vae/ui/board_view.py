"""The class board page's panels: the class's digits on the board run's map, the one clicked, counts and the
share that landed among their own digit's test codes, a gallery by digit, and the presenter's controls.

``live_panel`` is a fragment that runs every BOARD_POLL_SECONDS: it asks the process's LiveBoard for
what is new (vae/ui/board.py) and redraws only itself, so a digit appears within about two polls,
without a reload. Presenter actions (the board's run, clearing, hiding) are callbacks that ask
vae.ui.presenter.allowed() on the server before they touch the store.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from vae import catalog
from vae.board import BoardError
from vae.io import Run
from vae.limits import BOARD_POLL_SECONDS
from vae.ui import board, board_figure, frame, loaders, present
from vae.ui import presenter as presenter_ui
from vae.ui.i18n import language, message, t
from vae.ui.widgets import show

MAP_KEY = "board_map"  # the map's selection
PICK_KEY = "_board_picked"  # the submission id clicked on the map
FIGURE_KEY = "_board_figure"  # (what it shows, the figure, its extent): rebuilt only for another run or language
NOTE_KEY = "_board_note"  # ("success" | "warning", text): a presenter action's outcome, said once
RUN_CHOICE_KEY = "board_run_choice"
GALLERY_PER_DIGIT = 12  # the newest of each digit: a glance, not an archive
GALLERY_COLUMNS = 4


# ------------------------------------------------------------------ presenter actions (callbacks)


def note(kind: str, text: str) -> None:
    st.session_state[NOTE_KEY] = (kind, text)


def show_note() -> None:
    if (said := st.session_state.pop(NOTE_KEY, None)) is not None:
        getattr(st, said[0])(said[1])
    presenter_ui.refusal_note()


def choose_run() -> None:
    if not presenter_ui.allowed():
        return
    name = st.session_state.get(RUN_CHOICE_KEY)
    try:
        board.store().set_run(board.BOARD, name, known_runs=board.usable(frame.current().runs))
    except BoardError as err:
        note("warning", t("board.refused", reason=message(err)))
    else:
        note("success", t("board.run_set", name=name))


def clear_board() -> None:
    if not presenter_ui.allowed():
        return
    try:
        deleted = board.store().clear(board.BOARD)
    except BoardError as err:
        note("warning", t("board.refused", reason=message(err)))
    else:
        st.session_state.pop(PICK_KEY, None)
        note("success", t("board.cleared", n=deleted))


def hide_submission(submission_id: int) -> None:
    if not presenter_ui.allowed():
        return
    try:
        board.store().hide(submission_id)
    except BoardError as err:
        note("warning", t("board.refused", reason=message(err)))
    else:
        st.session_state.pop(PICK_KEY, None)
        note("success", t("board.hidden", id=submission_id))


def controls(runs: list[catalog.RunInfo]) -> None:
    """The board's run and clearing it: for the presenter; disabled, with the reason, for everyone else."""
    allowed = presenter_ui.can_act()
    found = board.usable(runs)
    if not found:
        return
    with st.expander(t("board.controls"), expanded=allowed):
        presenter_ui.locked_note()
        try:
            current = board.board_run(runs, board.store().run(board.BOARD))
        except BoardError as err:
            st.error(t("board.store_failed", reason=message(err)))
            return
        names = list(found)
        pick, use, clear = st.columns([3, 2, 2], vertical_alignment="bottom")
        pick.selectbox(
            t("board.run_choice"), names, index=names.index(current.name), key=RUN_CHOICE_KEY,
            format_func=lambda name: found[name].label, disabled=not allowed,
        )  # fmt: skip
        use.button(t("board.use_run"), on_click=choose_run, key="board_use_run", disabled=not allowed)
        with clear.popover(t("board.clear"), disabled=not allowed):
            st.markdown(t("board.clear_confirm"))
            st.button(
                t("board.clear_now"), on_click=clear_board, key="board_clear", type="primary", disabled=not allowed
            )


# ------------------------------------------------------------------ the live board


@st.cache_resource(max_entries=8, show_spinner=False)
def _placed(url: str, version: int, run_name: str, run_version: tuple, _snapshot, _info, _run) -> board.Placed:
    """One placement per new state of the board and run, shared by every board page of the process."""
    return board.placed(_snapshot.rows, _info, _run)


@st.fragment(run_every=BOARD_POLL_SECONDS)
def live_panel(runs: list[catalog.RunInfo]) -> None:
    show_note()
    try:
        snapshot = board.live().refresh()
        opened = board.open_board_run(runs, snapshot.run)
    except BoardError as err:  # the store or the run is unavailable: say so, and try again next poll
        st.error(t("board.store_failed", reason=message(err)))
        return
    if opened is None:
        st.info(t("board.no_run"))
        return
    info, run = opened
    placed = _placed(board.board_url(), snapshot.version, info.name, info.version, snapshot, info, run)
    counts_panel(snapshot, placed, info)
    left, right = st.columns([3, 2], gap="large")
    with left:
        map_panel(run, info, placed)
    with right:
        picked_panel(snapshot, placed, info, run)
    gallery_panel(snapshot)


def counts_panel(snapshot: board.Snapshot, placed: board.Placed, info: catalog.RunInfo) -> None:
    students = len({row.session_id for row in snapshot.rows})
    st.markdown(t("board.total", n=len(snapshot.rows), students=students, run=info.label))
    counts = np.bincount(placed.digits, minlength=10)
    shares = [f"{placed.shares[d]:.0%}" if d in placed.shares else "–" for d in range(10)]
    row = "| {} | " + " | ".join(["{}"] * 10) + " |"
    st.markdown(
        "\n".join([
            row.format(t("board.table_digit"), *range(10)),
            "|---|" + "---:|" * 10,
            row.format(t("board.table_sent"), *counts),
            row.format(t("board.table_landed"), *shares),
        ])
    )  # fmt: skip
    present.caption(t("board.landed_caption"))


def session_figure(run: Run, info: catalog.RunInfo, placed: board.Placed, picked: int | None):
    """This session's map: the faint test codes' picture made once per run and language, the class's digits
    placed on it anew whenever they change."""
    shows = (info.name, info.version, language())
    cached = st.session_state.get(FIGURE_KEY)
    if cached is None or cached[0] != shows:
        extent = board_figure.test_extent(run.latents["mean"])
        cached = (shows, board_figure.board_figure(run.latents, extent=extent), extent)
        st.session_state[FIGURE_KEY] = cached
    _, fig, extent = cached
    return board_figure.place_submissions(fig, placed.means, placed.digits, placed.ids, picked, extent)


def on_pick(trace: int) -> None:
    """The map's on_select callback: a click on one of the class's digits picks it (its id is its customdata).
    The faint test codes take no clicks (board_figure.board_figure), but a crafted selection may name one: it picks
    none. An empty selection (a double click resets plotly's) keeps the digit that was picked."""
    event = st.session_state.get(MAP_KEY) or {}
    points = (event.get("selection") or {}).get("points") or []
    if not points:
        return
    st.session_state.pop(PICK_KEY, None)
    for point in points:
        submission_id = point.get("customdata")
        submission_id = submission_id[0] if isinstance(submission_id, list) and submission_id else submission_id
        if point.get("curve_number") == trace and isinstance(submission_id, int | float):
            st.session_state[PICK_KEY] = int(submission_id)  # looked up among the board's ids before use


def map_panel(run: Run, info: catalog.RunInfo, placed: board.Placed) -> None:
    fig = session_figure(run, info, placed, st.session_state.get(PICK_KEY))
    trace = board_figure.trace_number(fig, "submissions")
    st.plotly_chart(
        fig, key=MAP_KEY, on_select=lambda: on_pick(trace), selection_mode="points",
        config={"displaylogo": False, "modeBarButtonsToRemove": ["lasso2d", "select2d", "autoScale2d"]},
    )  # fmt: skip
    present.caption(t("board.map_caption"))


def picked_panel(snapshot: board.Snapshot, placed: board.Placed, info: catalog.RunInfo, run: Run) -> None:
    """The clicked digit large, beside its reconstruction by the board's run, its code and the 15-NN vote."""
    rows = np.flatnonzero(placed.ids == st.session_state.get(PICK_KEY, -1))
    if not len(rows):
        st.caption(t("board.pick_hint"))
        return
    i = int(rows[0])
    row, mean = snapshot.rows[i], placed.means[i]
    st.markdown(t("board.picked_title", digit=row.digit, id=row.id))
    sent, rebuilt = st.columns(2)
    show(sent, row.pixels, t("board.picked_sent"), scale=8)
    show(rebuilt, loaders.decode(info, mean[None, :])[0], t("board.picked_reconstruction"), scale=8)
    (m1, m2), (s1, s2) = mean[:2], np.exp(0.5 * placed.log_vars[i][:2])
    st.markdown(t("board.picked_code", m1=m1, m2=m2, s1=s1, s2=s2))
    vote = board.vote(mean, run)
    st.markdown(t("board.landed_yes", digit=row.digit) if vote == row.digit else t("board.landed_no", vote=vote))
    allowed = presenter_ui.can_act()
    st.button(t("board.hide"), on_click=hide_submission, args=(row.id,), key="board_hide", disabled=not allowed)
    presenter_ui.locked_note()


def gallery_tile(pixels: list[np.ndarray], columns: int = GALLERY_COLUMNS) -> np.ndarray:
    """Digits side by side, each framed in grey (black digits on a black page would run into each other)."""
    framed = [np.pad(p, 1, constant_values=0.35) for p in pixels]
    framed += [np.zeros_like(framed[0])] * (-len(framed) % columns)
    rows = [np.hstack(framed[i : i + columns]) for i in range(0, len(framed), columns)]
    return np.vstack(rows)


def gallery_panel(snapshot: board.Snapshot) -> None:
    st.subheader(t("board.gallery_header"))
    by_digit: dict[int, list] = {digit: [] for digit in range(10)}
    for row in reversed(snapshot.rows):  # newest first
        by_digit[row.digit].append(row.pixels)
    cells = [*st.columns(5), *st.columns(5)]
    for digit, cell in zip(range(10), cells, strict=True):
        sent = by_digit[digit]
        if sent:
            shown = gallery_tile(sent[:GALLERY_PER_DIGIT])
            show(cell, shown, t("board.gallery_digit", digit=digit, n=len(sent)), scale=2)
        else:
            cell.caption(t("board.gallery_none", digit=digit))
