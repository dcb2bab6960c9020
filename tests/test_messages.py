"""A message for the user reads as its English text everywhere (CLI, logs, tests that match substrings) and
carries its catalogue key and values wherever it goes: raised, pickled by st.cache_data, kept in status.json."""

from __future__ import annotations

import json
import pickle

import pytest

from tests.helpers import draw_digit, image_bytes
from vae import io
from vae.images import ImageError, digit_from_upload
from vae.jobs import JobError, check_settings
from vae.messages import Message, UserError


def test_a_message_is_its_english_text_with_its_key_and_values():
    said = Message("images.too_large", "The file is {mb:.1f} MB; the limit is {limit:.0f} MB.", mb=3.25, limit=2)
    assert said == "The file is 3.2 MB; the limit is 2 MB." and isinstance(said, str)
    assert (said.key, said.values) == ("images.too_large", {"mb": 3.25, "limit": 2})
    assert json.dumps([said]) == '["The file is 3.2 MB; the limit is 2 MB."]'  # a plain string in JSON


def test_a_template_without_values_is_not_formatted():
    assert Message("a.b", "a {brace} stays") == "a {brace} stays"


def test_an_error_says_the_english_text_and_keeps_the_key():
    with pytest.raises(JobError, match="kl_weight must be between") as caught:
        check_settings(99.0, 5, None)
    err = caught.value
    assert str(err) == "kl_weight must be between 0.0001 and 10, not 99"
    assert err.key == "jobs.kl_range" and err.values["value"] == 99.0
    assert isinstance(err, UserError) and err.message == str(err)


def test_a_message_passed_on_keeps_its_key_and_plain_text_has_none():
    said = Message("io.missing", "{name} is missing", name="latents.npz")
    assert UserError(said).key == "io.missing"
    plain = UserError("something {odd}")
    assert str(plain) == "something {odd}" and plain.key is None and plain.values == {}


def test_a_message_and_an_error_survive_pickling_with_their_key():
    """st.cache_data pickles what it returns: an upload's notes and errors must come back translatable."""
    said = Message("images.high_bit_depth", "High bit-depth image ({mode}): rescaled to its own range.", mode="I;16")
    back = pickle.loads(pickle.dumps(said))
    assert back == said and back.key == said.key and back.values == {"mode": "I;16"}
    err = pickle.loads(pickle.dumps(ImageError("images.empty", "The file is empty.")))
    assert isinstance(err, ImageError) and err.key == "images.empty" and str(err) == "The file is empty."


def test_upload_problems_and_notes_carry_keys():
    with pytest.raises(ImageError) as caught:
        digit_from_upload(b"not an image")
    assert caught.value.key == "images.unreadable" and caught.value.values == {"kind": "UnidentifiedImageError"}
    _, _, notes = digit_from_upload(image_bytes(draw_digit(mode="RGBA"), "PNG"))
    assert [note.key for note in notes] == ["images.transparent"]
    assert notes[0] == "Transparent image: flattened onto a plain background."


def test_status_json_keeps_the_key_beside_the_english_message(tmp_path):
    io.write_status(
        tmp_path, state="cancelled", message=Message("status.cancelled", "cancelled after epoch {epoch}", epoch=3)
    )
    status = json.loads((tmp_path / "status.json").read_text())
    assert status["message"] == "cancelled after epoch 3"
    assert (status["message_key"], status["message_values"]) == ("status.cancelled", {"epoch": 3})
    said = Message.from_status(io.read_status(tmp_path))
    assert (said, said.key, said.values) == ("cancelled after epoch 3", "status.cancelled", {"epoch": 3})

    io.write_status(tmp_path, message="")  # plain text: the earlier key must not outlive its message
    status = io.read_status(tmp_path)
    assert status["message_key"] is None and Message.from_status(status).key is None


@pytest.mark.parametrize("status", [
    {}, {"message": "plain"}, {"message": "x", "message_key": 3, "message_values": {}},
    {"message": "x", "message_key": "status.failed", "message_values": "not a dict"},
])  # fmt: skip
def test_a_status_without_a_usable_key_reads_as_plain_text(status):
    said = Message.from_status(status)
    assert said == status.get("message", "") and said.key is None and said.values == {}
