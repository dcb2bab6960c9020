"""Who may act for the lecturer: start or cancel training, clear the board, hide a submission, choose the board's run.

On a server that listens on loopback only (Streamlit's ``server.address`` 127.0.0.1, ::1 or
localhost; the project's .streamlit/config.toml default) the person at the laptop is the presenter.
Once it listens beyond (0.0.0.0, a LAN address, or unset, which means every interface) each
action needs the presenter key: $VAE_PRESENTER_KEY, else ``presenter_key`` in
.streamlit/secrets.toml, else one generated when first asked for and printed once on the server's
terminal. Several replicas behind a load balancer must be given the same key (variable or secret);
a generated one differs per process.

The page calls ``announce()`` on every run, gives its password field
``on_change=unlock_from_field, args=(st.session_state, field_key)``, and asks
``is_presenter(st.session_state)`` before every action, on the server. The callback empties the
field, so the key goes back neither to the page nor into a URL, and stays in session state only as
a proof that it was typed.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import os
import secrets
import sys
import threading
from collections.abc import MutableMapping

from streamlit import config

KEY_ENV = "VAE_PRESENTER_KEY"
SECRET_NAME = "presenter_key"
LOOPBACK_NAMES = ("localhost",)
# Under a leading underscore no widget of the app uses: the browser sends widget values only, and
# Streamlit hands a value sent for a widget id that no widget registered to nobody (WStates has no
# deserializer for it). Even were one to arrive under this name, it would be a plain string, number
# or list from a protobuf, never an _Unlocked, which only this module makes.
SESSION_FLAG = "_vae_presenter_unlocked"
REFUSED_FLAG = "_vae_presenter_refused"  # True after a wrong key was typed: the page says so

_generated: str | None = None
_generate_lock = threading.Lock()
_PROCESS_SALT = secrets.token_bytes(32)  # digests of the key mean nothing outside this process


class _Unlocked:
    """The proof in a session's state that the presenter key was typed there (compared on the server)."""

    __slots__ = ("key_digest",)

    def __init__(self, key_digest: bytes):
        self.key_digest = key_digest  # of the key it was checked against: a changed key locks sessions again


def is_loopback(address: str | None) -> bool:
    """True for 127.0.0.0/8, ::1 (and IPv4-mapped loopback) and "localhost"; unset or 0.0.0.0 is every interface."""
    if not address:
        return False
    if address.strip().lower() in LOOPBACK_NAMES:
        return True
    try:
        parsed = ipaddress.ip_address(address.strip().strip("[]"))
    except ValueError:
        return False  # a host name other than localhost may resolve to anything
    mapped = getattr(parsed, "ipv4_mapped", None)
    return parsed.is_loopback or bool(mapped and mapped.is_loopback)


def requires_key() -> bool:
    """Does a presenter action need the key on this server (does it listen beyond loopback)?"""
    return not is_loopback(config.get_option("server.address"))


def _configured_key() -> str | None:
    if value := os.environ.get(KEY_ENV, "").strip():
        return value
    import streamlit as st

    if st.secrets.load_if_toml_exists():  # False, silently, when there is no secrets.toml
        value = str(st.secrets.get(SECRET_NAME, "") or "").strip()
    return value or None


def server_key() -> str:
    """The key this process checks against. A generated one is made once per process and printed once (stderr)."""
    global _generated
    if configured := _configured_key():
        return configured
    with _generate_lock:
        if _generated is None:
            _generated = secrets.token_urlsafe(16)
            print(
                f"\n  Presenter key for this server: {_generated}\n"
                f"  (type it on the page to clear the board or train; set {KEY_ENV} or "
                f"{SECRET_NAME} in .streamlit/secrets.toml to choose your own)\n",
                file=sys.stderr,
                flush=True,
            )
        return _generated


def announce() -> None:
    """Call at the top of every script run: beyond loopback, the first call makes the key and prints it."""
    if requires_key():
        server_key()


def _digest(value: str) -> bytes:
    return hmac.digest(_PROCESS_SALT, value.encode("utf-8", "surrogatepass"), hashlib.sha256)


def check(candidate: object) -> bool:
    """Is candidate the presenter key? Compared in constant time, over digests so that length tells nothing either."""
    if not isinstance(candidate, str) or not candidate:
        return False
    return hmac.compare_digest(_digest(candidate), _digest(server_key()))


def unlock(session_state: MutableMapping, candidate: object) -> bool:
    """Mark this browser session as the presenter's if candidate is the key; False (and locked) otherwise."""
    if check(candidate):
        session_state[SESSION_FLAG] = _Unlocked(_digest(server_key()))
        return True
    lock(session_state)
    return False


def unlock_from_field(session_state: MutableMapping, field_key: str) -> bool:
    """The password field's on_change callback: check what was typed, then empty the field, so the key
    stays neither in session state nor in the value the page gets back. Sets REFUSED_FLAG."""
    typed = session_state.get(field_key, "")
    session_state[field_key] = ""
    unlocked = unlock(session_state, typed)
    session_state[REFUSED_FLAG] = not unlocked
    return unlocked


def lock(session_state: MutableMapping) -> None:
    """Forget that this session typed the key."""
    if SESSION_FLAG in session_state:
        del session_state[SESSION_FLAG]


def is_presenter(session_state: MutableMapping) -> bool:
    """May this session act for the lecturer now? Always on loopback; otherwise only after unlock()."""
    if not requires_key():
        return True
    proof = session_state.get(SESSION_FLAG)
    return isinstance(proof, _Unlocked) and hmac.compare_digest(proof.key_digest, _digest(server_key()))
