"""The latent pad's decoder runs in the browser: its JS (run here under node) must match model.decode."""

from __future__ import annotations

import json
import struct
import subprocess
import types

import keras
import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from tests.helpers import ROOT, randomized
from vae.io import load_run
from vae.model import VAE
from vae.pad import MAX_SCATTER_POINTS, TEXTS, latent_pad, pack_decoder, packed_decoder, read_digest

PAD_JS = ROOT / "vae" / "static" / "pad.mjs"
# Unpacks the bytes with the page's own functions and decodes each point: what the browser does.
NODE_DRIVER = """
import { readFileSync } from "node:fs";
const [padUrl, packedPath, pointsJson] = process.argv.slice(1);
const { unpackDecoder, makeDecoder } = await import(padUrl);
const decoder = unpackDecoder(new Uint8Array(readFileSync(packedPath)));
const decode = makeDecoder(decoder);
const images = JSON.parse(pointsJson).map((z) => Array.from(decode(z)));
console.log(JSON.stringify({ digest: decoder.digest, images, points: Array.from(decoder.points), labels: Array.from(decoder.labels) }));
"""
# Max abs pixel difference between the browser and Python: float32 sums in another order, a few float32
# roundings per layer. The parity tests print the difference they found; README.md quotes this bound.
TOLERANCE = 1e-5


def run_js(node: str, packed: bytes, points: np.ndarray, tmp_path) -> dict:
    packed_path = tmp_path / "decoder.bin"
    packed_path.write_bytes(packed)
    result = subprocess.run(
        [
            node,
            "--input-type=module",
            "-e",
            NODE_DRIVER,
            "--",
            PAD_JS.as_uri(),
            str(packed_path),
            json.dumps(points.tolist()),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def parity_points() -> np.ndarray:
    """A grid over the usual range, the origin, points far outside it, and random ones."""
    grid = np.stack(np.meshgrid(np.linspace(-4, 4, 7), np.linspace(-4, 4, 7)), -1).reshape(-1, 2)
    far = np.array([[0.0, 0.0], [12.0, -9.0], [-30.0, 25.0]])
    return np.concatenate([grid, far, np.random.default_rng(0).normal(size=(10, 2)) * 2]).astype(np.float32)


@pytest.mark.parametrize("hidden", [(512, 256), (64,)])  # the default decoder 2-256-512-784, and one hidden layer
def test_js_decoder_matches_python_on_random_weights(node, tmp_path, hidden):
    keras.utils.set_random_seed(1)
    model = randomized(VAE(latent_dim=2, hidden=hidden))
    points = parity_points()
    out = run_js(node, pack_decoder(model), points, tmp_path)
    difference = np.abs(np.array(out["images"]) - model.decode(points)).max()
    print(f"random weights, hidden {hidden}: max abs pixel difference JS vs Python = {difference:.2e}")
    assert difference <= TOLERANCE, f"JS decoder differs from model.decode by {difference:.2e}"


@pytest.mark.slow
def test_js_decoder_matches_python_on_a_trained_run(node, tmp_path, tiny_run):
    run = load_run(tiny_run)
    latents, labels = run.latents["mean"], run.latents["labels"]
    points = np.concatenate([parity_points(), latents[:20]])
    packed = pack_decoder(run.model, latents, labels)
    out = run_js(node, packed, points, tmp_path)
    difference = np.abs(np.array(out["images"]) - run.model.decode(points)).max()
    print(f"trained run: max abs pixel difference JS vs Python = {difference:.2e}")
    assert difference <= TOLERANCE

    # The scatter behind the pad arrives intact: an even subsample that keeps every digit.
    points_js = np.array(out["points"]).reshape(-1, 2)
    assert len(points_js) == min(len(latents), MAX_SCATTER_POINTS)
    keep = np.linspace(0, len(latents) - 1, len(points_js)).astype(int)
    np.testing.assert_array_equal(points_js, latents[keep])
    np.testing.assert_array_equal(out["labels"], labels[keep])
    assert out["digest"] == read_digest(packed)


def test_packed_layout_is_aligned_and_self_describing():
    model = VAE(latent_dim=2, hidden=(32, 16))
    packed = pack_decoder(model, np.zeros((5, 2), np.float32), np.arange(5))
    (length,) = struct.unpack_from("<I", packed)
    header = json.loads(packed[4 : 4 + length])
    assert length % 4 == 0
    assert [(layer["inputs"], layer["outputs"], layer["activation"]) for layer in header["layers"]] == [
        (2, 16, "relu"),
        (16, 32, "relu"),
        (32, 784, "sigmoid"),
    ]
    n_floats = sum(i * o + o for i, o, _ in [(2, 16, 0), (16, 32, 0), (32, 784, 0)]) + 5 * 2
    assert len(packed) == 4 + length + 4 * n_floats + 5


def test_perf_guard_packing_is_remembered_per_model_and_redone_for_new_latents():
    """Pins the cache by identity on purpose: packing the decoder again on every rerun would slow each slider step
    (benchmarks/slider_roundtrip.py)."""
    model = VAE(latent_dim=2, hidden=(8,))
    latents, labels = np.ones((4, 2), np.float32), np.arange(4)
    digest, packed = packed_decoder(model, latents, labels)
    assert packed_decoder(model, latents.copy(), labels.copy())[1] is packed  # same content, e.g. st.cache_data copies
    assert packed_decoder(model, latents + 1, labels)[0] != digest
    assert packed_decoder(VAE(latent_dim=2, hidden=(8,)), latents, labels)[0] != digest  # other weights


def pad_app():
    import streamlit as st

    from vae.model import VAE
    from vae.pad import latent_pad

    @st.cache_resource
    def model():
        return VAE(latent_dim=2, hidden=(8,))

    point = latent_pad(model(), z=(0.5, -0.25), extent=2.0, key="pad")
    st.write(f"released: {point}")


def test_perf_guard_the_weights_travel_once_per_session_and_the_point_every_run():
    """Reads AppTest's component protos on purpose: resending the decoder's bytes with every rerun would put them
    on each slider step's round trip (benchmarks/slider_roundtrip.py)."""
    at = AppTest.from_function(pad_app).run(timeout=60)
    assert not at.exception
    assert [e.key for e in at.get("bidi_component")] == ["pad", "pad-decoder"]
    pad, decoder = (e.proto for e in at.get("bidi_component"))
    assert json.loads(pad.json) == {
        "z": [0.5, -0.25], "extent": 2.0, "step": 0.1, "size": 280, "digest": read_digest(decoder.bytes), "moves": 0, "texts": TEXTS,
    }  # fmt: skip
    assert at.markdown[0].value == "released: None"  # nothing dragged yet

    at.run()
    assert [e.key for e in at.get("bidi_component")] == ["pad"]  # the page keeps the decoder it has


def test_bad_input_is_refused_with_a_reason():
    with pytest.raises(ValueError, match="2-D latent space"):
        latent_pad(VAE(latent_dim=3, hidden=(8,)))
    with pytest.raises(ValueError, match="3 latents but 2 labels"):
        pack_decoder(VAE(latent_dim=2, hidden=(8,)), np.zeros((3, 2)), np.zeros(2))
    tanh_decoder = keras.Sequential(
        [keras.Input((2,)), keras.layers.Dense(8, activation="tanh"), keras.layers.Dense(784)]
    )
    with pytest.raises(ValueError, match="activation 'tanh'"):
        pack_decoder(types.SimpleNamespace(decoder=tanh_decoder))
