"""The presenter key: needed beyond loopback, checked on the server in constant time, never on the page."""

from __future__ import annotations

import threading
from collections.abc import MutableMapping

import pytest
import streamlit
from streamlit import config
from streamlit.proto.WidgetStates_pb2 import WidgetStates
from streamlit.runtime.secrets import Secrets
from streamlit.runtime.state.session_state import SessionState
from streamlit.testing.v1 import AppTest

from tests.page_text import assert_not_rendered
from vae import presenter

KEY = "correct-horse-battery-staple"


@pytest.fixture
def listen():
    """listen(address): the server.address Streamlit would bind; restored afterwards."""
    before = config.get_option("server.address")
    yield lambda address: config.set_option("server.address", address)
    config.set_option("server.address", before)


@pytest.fixture
def no_configured_key(monkeypatch, tmp_path):
    """No variable, no secrets file, and a process that has not generated a key yet."""
    monkeypatch.delenv(presenter.KEY_ENV, raising=False)
    before = config.get_option("secrets.files")
    config.set_option("secrets.files", [str(tmp_path / "secrets.toml")])
    monkeypatch.setattr(streamlit, "secrets", Secrets())
    monkeypatch.setattr(presenter, "_generated", None)
    yield tmp_path / "secrets.toml"
    config.set_option("secrets.files", before)


@pytest.fixture
def lecture_hall(listen, no_configured_key, monkeypatch):
    """A server on every interface with a known key."""
    listen("0.0.0.0")
    monkeypatch.setenv(presenter.KEY_ENV, KEY)


@pytest.mark.parametrize(
    "address", ["127.0.0.1", "127.8.9.10", "::1", "[::1]", "localhost", "LocalHost", "::ffff:127.0.0.1"]
)
def test_loopback_addresses(address):
    assert presenter.is_loopback(address)


@pytest.mark.parametrize(
    "address", [None, "", "0.0.0.0", "::", "192.168.1.20", "10.0.0.1", "lecture.example.org", "localhost.evil.com"]
)
def test_addresses_beyond_loopback(address):
    assert not presenter.is_loopback(address)


def test_on_loopback_everyone_is_presenter_without_a_key(listen, no_configured_key, capsys):
    listen("127.0.0.1")
    presenter.announce()
    assert not presenter.requires_key() and presenter.is_presenter({})
    assert presenter._generated is None and capsys.readouterr().err == ""  # no key made or printed


def test_beyond_loopback_an_action_needs_the_key(lecture_hall):
    session: dict = {}
    assert presenter.requires_key() and not presenter.is_presenter(session)
    for wrong in ("", "correct-horse", KEY + " ", KEY.upper(), None, 12345, [KEY], KEY.encode()):
        assert not presenter.unlock(session, wrong) and not presenter.is_presenter(session)
    assert presenter.unlock(session, KEY) and presenter.is_presenter(session)
    assert not presenter.is_presenter({})  # another browser session is still a student
    presenter.unlock(session, "wrong")  # a wrong try locks again
    assert not presenter.is_presenter(session)


def test_a_changed_key_locks_sessions_again(lecture_hall, monkeypatch):
    session: dict = {}
    presenter.unlock(session, KEY)
    monkeypatch.setenv(presenter.KEY_ENV, "a-new-key-for-the-afternoon")
    assert not presenter.is_presenter(session)


@pytest.mark.parametrize("crafted", [True, 1, "1", KEY, {"key_digest": "x"}, [True]], ids=repr)
def test_crafted_session_values_do_not_make_a_presenter(lecture_hall, crafted):
    class _Unlocked:  # a look-alike of the same name and shape is no proof either
        key_digest = presenter._digest(KEY)

    assert not presenter.is_presenter({presenter.SESSION_FLAG: crafted})
    assert not presenter.is_presenter({presenter.SESSION_FLAG: _Unlocked()})


class ScriptView(MutableMapping):
    """The mapping a script sees as st.session_state, over Streamlit's own SessionState."""

    def __init__(self, state: SessionState):
        self.state = state

    def __getitem__(self, key):
        return self.state[key]

    def __setitem__(self, key, value):
        self.state[key] = value

    def __delitem__(self, key):
        del self.state[key]

    def __iter__(self):
        return iter(self.state)

    def __len__(self):
        return len(self.state)


@pytest.mark.parametrize(("field", "value"), [("bool_value", True), ("string_value", KEY), ("json_value", '{"a": 1}')])
def test_a_widget_value_crafted_under_the_flags_name_never_reaches_the_script(lecture_hall, field, value):
    state = SessionState()
    crafted = WidgetStates()
    widget = crafted.widgets.add()
    widget.id = presenter.SESSION_FLAG
    setattr(widget, field, value)
    state.on_script_will_rerun(crafted)  # what a browser's rerun message does
    assert presenter.SESSION_FLAG not in ScriptView(state)  # Streamlit drops a value no widget registered
    assert not presenter.is_presenter(ScriptView(state))


def test_the_key_comes_from_the_variable_then_secrets_then_is_generated(no_configured_key, monkeypatch):
    no_configured_key.write_text('presenter_key = "from-the-secrets-file"\n')
    monkeypatch.setattr(streamlit, "secrets", Secrets())
    assert presenter.server_key() == "from-the-secrets-file"
    monkeypatch.setenv(presenter.KEY_ENV, "from-the-variable")
    assert presenter.server_key() == "from-the-variable" and presenter.check("from-the-variable")
    monkeypatch.setenv(presenter.KEY_ENV, "   ")  # blank is not a key anyone could mean
    assert presenter.server_key() == "from-the-secrets-file"


def test_a_generated_key_is_made_once_per_process_and_printed_once(listen, no_configured_key, capsys):
    listen("0.0.0.0")
    keys: list[str] = []
    threads = [threading.Thread(target=lambda: keys.append(presenter.server_key())) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    presenter.announce()
    assert len(set(keys)) == 1 and len(keys[0]) >= 20
    assert capsys.readouterr().err.count(keys[0]) == 1
    assert presenter.check(keys[0]) and not presenter.check(keys[0][:-1])


def test_the_comparison_is_constant_time(lecture_hall, monkeypatch):
    compared = []
    real = presenter.hmac.compare_digest
    monkeypatch.setattr(presenter.hmac, "compare_digest", lambda a, b: compared.append((a, b)) or real(a, b))
    assert presenter.check(KEY) and not presenter.check("nope")
    assert len(compared) == 2 and all(len(a) == len(b) == 32 for a, b in compared)  # digests: length tells nothing


def presenter_page():
    """A page that unlocks through a password field, as the app's panel does."""
    import streamlit as st

    from vae import presenter

    presenter.announce()
    st.text_input(
        "Presenter key",
        type="password",
        key="typed_key",
        on_change=presenter.unlock_from_field,
        args=(st.session_state, "typed_key"),
    )
    if st.session_state.get(presenter.REFUSED_FLAG):
        st.error("That is not the presenter key.")
    st.write("presenter" if presenter.is_presenter(st.session_state) else "student")


def test_the_page_unlocks_through_its_field_and_never_shows_the_key(lecture_hall):
    at = AppTest.from_function(presenter_page).run()
    assert at.markdown[0].value == "student"
    at.text_input(key="typed_key").input("wrong key").run()
    assert at.error[0].value == "That is not the presenter key." and at.markdown[0].value == "student"
    at.text_input(key="typed_key").input(KEY).run()
    assert at.markdown[0].value == "presenter" and not at.error
    assert at.text_input(key="typed_key").value == ""  # the field was emptied on the server
    assert_not_rendered(at, KEY)
    fresh = AppTest.from_function(presenter_page)
    fresh.session_state[presenter.SESSION_FLAG] = True  # a forged flag in a fresh session is no proof
    assert fresh.run().markdown[0].value == "student"


def test_the_leak_check_finds_a_key_on_the_page(lecture_hall):
    def leaky_page():
        import streamlit as st

        st.caption(f"key: {__import__('vae.presenter').presenter.server_key()}")

    with pytest.raises(AssertionError, match="reached the page"):
        assert_not_rendered(AppTest.from_function(leaky_page).run(), KEY)
