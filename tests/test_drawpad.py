"""vae.drawpad: the networks reach the page once per session; what the page sends back is checked on the server.

The page's side (preprocessing and encoder) is checked under node in tests/test_preprocess_parity.py
and in Chromium in tests/e2e/test_drawing.py. Here the server path runs in AppTest, with the page's
messages sent as the browser sends them (a widget state).
"""

from __future__ import annotations

import json
import math
import struct

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from tests.helpers import send_to_pad
from vae.drawpad import TEXTS, DrawingError, digit_from_page, picture_messages
from vae.images import RULES
from vae.packing import read_digest

# ----------------------------------------------------------------- what the page may send


def test_784_values_in_0_1_become_the_28x28():
    values = np.linspace(0, 1, 784)
    digit = digit_from_page([0, 1, *values[2:].tolist()])  # ints are numbers too
    assert digit.shape == (28, 28) and digit.dtype == np.float32
    assert digit[0, 0] == 0 and digit[0, 1] == 1 and digit[27, 27] == 1
    assert digit_from_page(None) is None  # the pad was cleared


@pytest.mark.parametrize(
    "value, reason",
    [
        ([0.5] * 783, "784 pixel values"),
        ([0.5] * 785, "784 pixel values"),
        ("0.5," * 784, "784 pixel values"),
        ({"pixels": [0.5] * 784}, "784 pixel values"),
        ([0.5] * 783 + [1.5], "outside 0..1"),
        ([0.5] * 783 + [-0.01], "outside 0..1"),
        ([0.5] * 783 + [math.nan], "outside 0..1"),
        ([0.5] * 783 + [math.inf], "outside 0..1"),
        ([0.5] * 783 + ["0.5"], "outside 0..1"),
        ([0.5] * 783 + [True], "outside 0..1"),
        ([0.5] * 783 + [None], "outside 0..1"),
        ([[0.5] * 28] * 28, "784 pixel values"),
    ],
)
def test_anything_else_is_refused_with_a_reason(value, reason):
    with pytest.raises(DrawingError, match=reason):
        digit_from_page(value)


# ----------------------------------------------------------------- the component in a script run


def pad_app():
    import streamlit as st

    from tests.helpers import random_numpy_vae
    from vae.drawpad import draw_pad

    def heard(digit):
        st.session_state.setdefault("heard", []).append(None if digit is None else round(float(digit.sum()), 3))

    model = st.cache_resource(lambda: random_numpy_vae(hidden=(16,)))()  # one model object, as the app has
    digit = draw_pad(model, key="draw", on_change=heard)
    st.write(f"digit: {None if digit is None else round(float(digit.sum()), 3)}; heard {st.session_state.get('heard')}")


def both_pads_app():
    import numpy as np
    import streamlit as st

    from tests.helpers import random_numpy_vae
    from vae.drawpad import draw_pad
    from vae.pad import latent_pad

    model = st.cache_resource(lambda: random_numpy_vae(hidden=(16,)))()
    latents, labels = np.zeros((10, 2), np.float32), np.arange(10)
    latent_pad(model, latents=latents, labels=labels, key="pad")
    draw_pad(model, latents=latents, labels=labels, key="draw")


@pytest.fixture
def app_test():
    """AppTest.from_function(app).run(); st.cache_resource survives AppTest instances: cleared around each test."""
    import streamlit as st

    st.cache_resource.clear()
    yield lambda app: AppTest.from_function(app).run(timeout=60)
    st.cache_resource.clear()


def components(at: AppTest) -> dict:
    return {e.key: e.proto for e in at.get("bidi_component")}


def send(at: AppTest, state: dict | None = None, trigger: dict | None = None) -> AppTest:
    return send_to_pad(at, state, trigger, key="draw")


def test_the_networks_travel_once_per_session_with_the_rules(app_test):
    at = app_test(pad_app)
    assert not at.exception
    sent = components(at)
    assert list(sent) == ["draw", "draw-encoder", "draw-decoder"]
    data = json.loads(sent["draw"].json)
    assert data["rules"] == RULES.to_json() and data["texts"] == TEXTS | picture_messages()
    assert "draw" in data["texts"]["canvas"]
    digests = read_digest(sent["draw-encoder"].bytes), read_digest(sent["draw-decoder"].bytes)
    assert (data["encoder"], data["decoder"]) == digests
    encoder = sent["draw-encoder"].bytes
    (length,) = struct.unpack_from("<I", encoder)
    layers = json.loads(encoder[4 : 4 + length])["layers"]
    assert [(x["inputs"], x["outputs"], x["activation"]) for x in layers] == [(784, 16, "relu"), (16, 4, "linear")]

    at.run()
    assert list(components(at)) == ["draw"]  # the page keeps what it has

    send(at, trigger={"event": "missing", "value": digests[1]})  # the page lost the decoder: it alone comes again
    assert list(components(at)) == ["draw", "draw-decoder"]


def test_with_the_latent_pad_on_the_page_the_decoder_travels_once(app_test):
    at = app_test(both_pads_app)
    assert not at.exception
    assert list(components(at)) == ["pad", "pad-decoder", "draw", "draw-encoder"]


def test_a_finished_stroke_reaches_python_checked_and_a_bad_one_is_ignored_with_a_message(app_test):
    at = app_test(pad_app)
    assert at.markdown[0].value == "digit: None; heard None"
    drawing = np.zeros(784)
    drawing[300:320] = 0.5
    send(at, {"digit": drawing.tolist()})
    assert at.markdown[0].value == "digit: 10.0; heard [10.0]"

    send(at, {"digit": [2.0] * 784})  # not what the page sends: refused, the last drawing kept
    assert "outside 0..1" in at.warning[0].value
    assert at.markdown[0].value == "digit: 10.0; heard [10.0]"
    at.run()
    assert not at.warning  # said once

    send(at, {"digit": None})  # Clear
    assert at.markdown[0].value == "digit: None; heard [10.0, None]"


def test_a_picture_is_made_in_the_page_with_the_servers_numbers_limits_and_messages(app_test):
    """The page decodes and preprocesses an opened picture itself: everything it needs for that comes from
    the one place that holds it (vae.images, vae.limits, the catalogue)."""
    from vae import limits
    from vae.drawpad import PICTURE_MESSAGES
    from vae.images import PHOTO
    from vae.ui.i18n import catalogue

    data = json.loads(components(app_test(pad_app))["draw"].json)
    assert data["rules"] == RULES.to_json() and data["photo"] == PHOTO.to_json()
    assert data["limits"] == {
        "maxBytes": limits.MAX_UPLOAD_BYTES, "maxPixels": limits.MAX_UPLOAD_PIXELS,
        "formats": list(limits.UPLOAD_FORMATS), "accept": ".png,.jpg,.jpeg,.bmp,.webp,.gif",
    }  # fmt: skip
    assert {key: data["texts"][key] for key in PICTURE_MESSAGES} == {
        key: catalogue("en")[f"errors.{key}"] for key in PICTURE_MESSAGES
    }
    assert data["texts"]["open"] == TEXTS["open"] and "shown" not in data  # the server puts nothing on the pad


@pytest.mark.parametrize("component", ["vae.drawpad", "vae.pad"])
def test_each_component_is_one_valid_module_once_its_imports_are_inlined(component, node, tmp_path):
    """vae.packing.bundle puts every imported module in one scope: two modules declaring the same top-level
    name would make the page's component a SyntaxError, which node reports without running it."""
    import importlib
    import subprocess

    path = tmp_path / "bundle.mjs"
    path.write_text(importlib.import_module(component).JS)
    result = subprocess.run([node, "--check", str(path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
