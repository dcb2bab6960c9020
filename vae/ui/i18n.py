"""Every string the page shows comes from one catalogue per language: vae/ui/locales/<lang>.toml.

    t("map.header")                      -> "2 · Where the test digits land"
    t("map.caption_here", z1=0.5, z2=1)  -> str.format with the catalogue's placeholders

Messages from the vae package (errors, notes, a job's status) carry a catalogue key beside their
English text (vae.messages); ``message(err)`` says them from the [errors] section:

    message(ImageError("images.empty", "The file is empty."))   -> t("errors.images.empty")

The language is kept per session (st.session_state), never process-wide: gettext-style global
state would give every student the first visitor's language. Outside a Streamlit session (pure
figure builders under test, scripts) the language is English unless one is passed.
"""

from __future__ import annotations

import functools
from pathlib import Path

import tomllib

from vae.messages import Message, UserError

LOCALES = Path(__file__).parent / "locales"
LANGUAGES = {"en": "English", "zh": "中文"}
DEFAULT = "en"
STATE_KEY = "lang"


@functools.cache
def catalogue(lang: str) -> dict[str, str]:
    """The flat {"section.key": text} table of one language."""
    with open(LOCALES / f"{lang}.toml", "rb") as file:
        nested = tomllib.load(file)
    flat: dict[str, str] = {}

    def walk(prefix: str, table: dict) -> None:
        for key, value in table.items():
            if isinstance(value, dict):
                walk(f"{prefix}{key}.", value)
            else:
                flat[prefix + key] = value

    walk("", nested)
    return flat


def language() -> str:
    """This session's language; English outside a Streamlit session."""
    try:
        import streamlit as st

        return st.session_state.get(STATE_KEY, DEFAULT)
    except Exception:  # no script run context (a plain import, a test of a pure builder)
        return DEFAULT


def t(key: str, lang: str | None = None, **values) -> str:
    """The text for key in this session's language, formatted with values. An unknown key raises
    KeyError (tests/test_i18n.py checks both catalogues hold every key the code uses)."""
    text = catalogue(lang or language())[key]
    return text.format(**values) if values else text


def message(said: Exception | str, lang: str | None = None) -> str:
    """An error, note or status message of the vae package in this session's language: the catalogue's
    errors.<key> filled with its values (a value that is a message itself is said too), else its English text
    (a message without a key, a key no catalogue holds, an exception from elsewhere)."""
    said = said.message if isinstance(said, UserError) else said
    key = getattr(said, "key", None)
    text = catalogue(lang or language()).get(f"errors.{key}") if key else None
    if text is None:
        return str(said)
    values = {
        name: message(value, lang) if isinstance(value, Message) else value for name, value in said.values.items()
    }
    try:
        return text.format(**values)
    except (KeyError, IndexError, ValueError):  # values that do not fit it (a status.json edited by hand)
        return str(said)


def keyed(name: str) -> str:
    """A widget key for a widget whose options are translated (a selectbox, a radio). Streamlit sends such a
    widget's value as its option's text, which names no option in another language: a key of its own per
    language lets the widget start afresh instead of returning text that is not an option."""
    return f"{name}-{language()}"


def pick_language(query_lang: str | None, locale: str | None) -> tuple[str, str | None]:
    """(language, note or None): ?lang= first, else the browser's locale, else English. A bad ?lang= is
    ignored with a note, never an error."""
    if query_lang:
        if query_lang in LANGUAGES:
            return query_lang, None
        fallback, _ = pick_language(None, locale)
        return fallback, t("frame.bad_lang", lang=fallback, value=str(query_lang)[:20])
    browser = (locale or "").split("-")[0].lower()
    return (browser if browser in LANGUAGES else DEFAULT), None
