"""The presenter key in the page: the sidebar's password field, and the check every presenter action makes.

vae.presenter decides who the presenter is (everyone on loopback; beyond it, a session that typed
the key). This module is the page's side of it:

- ``key_field()`` (the frame, once per run): a password field in the sidebar when the server needs
  the key. Its callback (vae.presenter.unlock_from_field) empties it, so the key goes back neither
  to the page nor into the URL.
- ``allowed()``: asked inside each action's callback or handler, on the server, right before the
  action. Streamlit drops a click on a button it drew disabled, but a button drawn for the
  presenter can be pressed after the key changed or the session was locked: the action asks again.
- ``guard(action, *args)``: a ready-made callback that runs action(*args) only when allowed().
- ``locked_note()``: the line a student sees beside a control that only the presenter may use.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from vae import presenter
from vae.ui.i18n import t

FIELD_KEY = "presenter_key_field"
REFUSAL_KEY = "_presenter_refusal"  # True after an action was refused: said once, on the next run


def can_act() -> bool:
    """May this session use presenter controls now? (Decides what is drawn; actions ask allowed().)"""
    return presenter.is_presenter(st.session_state)


def allowed() -> bool:
    """The server-side check of one presenter action; a refusal is remembered so the page can say so."""
    if presenter.is_presenter(st.session_state):
        return True
    st.session_state[REFUSAL_KEY] = True
    return False


def guard(action: Callable[..., object], *args: object) -> None:
    """A callback: action(*args) for the presenter, nothing (and a note) for anyone else."""
    if allowed():
        action(*args)


def refusal_note(where=st) -> None:
    """Say once that an action was refused (a student's crafted click, or a key that changed since)."""
    if st.session_state.pop(REFUSAL_KEY, False):
        where.warning(t("presenter.refused"))


def locked_note(where=st) -> None:
    """Beside a disabled control: why it is disabled and where the key goes."""
    if not can_act():
        where.caption(t("presenter.locked"))


def key_field() -> None:
    """The sidebar's presenter key (only where the server needs one): a password field, or "unlocked" and
    a Lock button once it was typed."""
    if not presenter.requires_key():
        return
    if can_act():
        st.sidebar.caption(t("presenter.unlocked"))
        st.sidebar.button(t("presenter.lock"), on_click=presenter.lock, args=(st.session_state,), key="presenter_lock")
        return
    st.sidebar.text_input(
        t("presenter.field"), type="password", key=FIELD_KEY, help=t("presenter.field_help"),
        on_change=presenter.unlock_from_field, args=(st.session_state, FIELD_KEY),
    )  # fmt: skip
    if st.session_state.get(presenter.REFUSED_FLAG):
        st.sidebar.warning(t("presenter.wrong_key"))
