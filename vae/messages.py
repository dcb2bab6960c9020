"""Messages for the user that a page can say in its own language, while the core package stays English-only.

A message is its English text plus a catalogue key and the values that fill it:

    ImageError("images.too_large", "The file is {mb:.1f} MB; the limit is {limit:.0f} MB.", mb=3.2, limit=2)
    str(err)    -> "The file is 3.2 MB; the limit is 2 MB."   (the CLI, logs and tests read this)
    err.key     -> "images.too_large";  err.values -> {"mb": 3.2, "limit": 2}

The app looks the key up under [errors] in its catalogues (vae.ui.i18n.message) and falls back to the
English text when it has none, so nothing here knows about the UI. ``Message`` is a str, so a note in
a list of notes or a run's ``problem`` reads and compares as its English text everywhere else.
A value may itself be a Message ("{what} must be numbers" with what = "the image"): the page says it too.
tests/test_i18n.py checks that every key raised in vae/ is in both catalogues with this English text.
"""

from __future__ import annotations

STATUS_FIELDS = ("message", "message_key", "message_values")  # how a Message is kept in a run's status.json


class Message(str):
    """English text that also carries its catalogue key (None for text that has none) and values."""

    key: str | None
    values: dict

    def __new__(cls, key: str | None, template: str, /, **values) -> Message:
        return cls.restore(key, template.format(**values) if values else template, values)

    @classmethod
    def restore(cls, key: str | None, text: str, values: dict | None = None) -> Message:
        """A message whose English text is already formatted (read back from JSON, or plain text)."""
        said = super().__new__(cls, text)
        said.key, said.values = key, dict(values or {})
        return said

    @classmethod
    def of(cls, said: str) -> Message:
        """A Message as it is; any other text as a message without a key (said in English everywhere)."""
        return said if isinstance(said, Message) else cls.restore(None, str(said))

    def __reduce__(self):  # st.cache_data pickles what it returns: keep the key and values
        return Message.restore, (self.key, str(self), self.values)

    def status_fields(self) -> dict:
        """The fields that keep this message in status.json (values must be JSON: numbers and text)."""
        return {"message": str(self), "message_key": self.key, "message_values": self.values}

    @classmethod
    def from_status(cls, status: dict) -> Message:
        """A run status's message: a Message put there in memory, or one read back from status.json."""
        said, key, values = status.get("message") or "", status.get("message_key"), status.get("message_values")
        if isinstance(said, Message):
            return said
        if not isinstance(key, str) or not isinstance(values, dict):  # plain text, or a hand-edited file
            key, values = None, {}
        return cls.restore(key, str(said), values)


class UserError(Exception):
    """An error whose message is meant for the user: ``UserError(key, template, **values)``, or a Message
    passed on (``RunError(info.problem)``); plain text alone is kept, without a key."""

    def __init__(self, key_or_message: str, template: str | None = None, /, **values) -> None:
        said = Message.of(key_or_message) if template is None else Message(key_or_message, template, **values)
        super().__init__(said)  # args == (said,): str(err) is the English text, pickling keeps the key

    @property
    def message(self) -> Message:
        return self.args[0]

    @property
    def key(self) -> str | None:
        return self.message.key

    @property
    def values(self) -> dict:
        return self.message.values
