"""Issue 4, target 3: latency of decoding one 2-d point, the path the app's z1/z2 sliders use.

    python -m benchmarks.decode_latency [--run pretrained/elbo-kl1] [--calls 1000] [--predict-calls 100]

Times ``run.model.decode(z)`` (a tf.function over the decoder plus sigmoid, numpy in and
out) on a fresh point per call, next to the two ways one might otherwise write it on
the same model and points: ``model.decoder.predict(z)`` (Keras' batch API, the
baseline; fewer calls, it is slow) and the eager call ``tf.sigmoid(model.decoder(z))``.
A fourth row is a lever, not the app's path: the same weights multiplied in numpy,
showing how much of a call is TensorFlow's per-call overhead. The last row is the PNG
encoding the app does next (28 x 28 scaled 10x), the rest of the server side of a
slider step. Target: decode p95 <= 2 ms.

Percentiles are wall-clock; the last column is the median CPU time of this process
per call (all its threads), which on a loaded machine shows what a call costs once it
has a core: wall p95 well above it means the call waited for a core.

Uses --run, else pretrained/ (the default run first), else a fresh untrained default
VAE: the decoder's cost does not depend on its weights.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from vae import catalog, generate  # noqa: E402
from vae.config import VAEConfig  # noqa: E402
from vae.io import load_run  # noqa: E402
from vae.model import build_vae  # noqa: E402


def load_model(run: str | None):
    """(model, description): --run, else the default or first pretrained run, else a fresh default VAE."""
    if run:
        return load_run(run, compile=False).model, run
    usable = [info for info in catalog.list_runs() if info.ok and info.name.startswith("pretrained/")]
    if usable:  # list_runs puts the default run first
        return catalog.open_run(usable[0]).model, usable[0].name
    return build_vae(VAEConfig()), "a fresh default VAE (no usable run in pretrained/)"


def numpy_decoder(model):
    """The decoder's Dense layers (ReLU, then sigmoid) as numpy matmuls: the cost without TensorFlow's dispatch."""
    weights = [(layer.kernel.numpy(), layer.bias.numpy()) for layer in model.decoder.layers if hasattr(layer, "kernel")]

    def decode(z: np.ndarray) -> np.ndarray:
        for i, (kernel, bias) in enumerate(weights):
            z = z @ kernel + bias
            z = np.maximum(z, 0) if i < len(weights) - 1 else 1 / (1 + np.exp(-z))
        return z

    return decode


def latencies_ms(fn, points: np.ndarray) -> np.ndarray:
    """(calls, 2) milliseconds of fn(point), wall and this process's CPU, per (1, latent_dim) point, after warm-up."""
    for z in points[:20]:
        fn(z)
    times = np.empty((len(points), 2))
    for i, z in enumerate(points):
        t0, c0 = time.perf_counter(), time.process_time()
        fn(z)
        times[i] = time.perf_counter() - t0, time.process_time() - c0
    return times * 1e3


def summary(name: str, ms: np.ndarray) -> str:
    p50, p95, p99 = np.percentile(ms[:, 0], [50, 95, 99])
    return f"{name:<38} {len(ms):>5} {p50:8.3f} {p95:8.3f} {p99:8.3f} {ms[:, 0].max():8.2f} {np.median(ms[:, 1]):8.3f}"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run", help="run directory (default: pretrained/, else a fresh model)")
    p.add_argument("--calls", type=int, default=1000)
    p.add_argument("--predict-calls", type=int, default=100, help="model.predict is ~50 ms a call: fewer calls")
    args = p.parse_args()

    model, where = load_model(args.run)
    dim = model.latent_dim
    rng = np.random.default_rng(0)
    # one slider step = one new point, shaped as the app passes it: (1, latent_dim) float32
    points = rng.uniform(-4, 4, size=(args.calls, 1, dim)).astype(np.float32)
    print(f"model: {where}; latent_dim {dim}; {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")

    rows = {
        "model.decode(z)  [the slider path]": latencies_ms(model.decode, points),
        "eager tf.sigmoid(decoder(z))": latencies_ms(
            lambda z: tf.sigmoid(model.decoder(z, training=False)).numpy(), points
        ),
        "decoder.predict(z)  [baseline]": latencies_ms(
            lambda z: model.decoder.predict(z, verbose=0), points[: args.predict_calls]
        ),
    }
    in_numpy = numpy_decoder(model)
    rows["numpy matmuls, same weights  [lever]"] = latencies_ms(in_numpy, points)
    gap = np.abs(in_numpy(points[:, 0]) - model.decode(points[:, 0])).max()
    image = model.decode(points[0]).reshape(28, 28)
    rows["to_png(image, scale=10)  [app, after]"] = latencies_ms(lambda _: generate.to_png(image, scale=10), points)

    print(f"\n{'milliseconds per call':<38} {'calls':>5} {'p50':>8} {'p95':>8} {'p99':>8} {'max':>8} {'CPU p50':>8}")
    for name, ms in rows.items():
        print(summary(name, ms))
    fast, slow = rows["model.decode(z)  [the slider path]"], rows["decoder.predict(z)  [baseline]"]
    p95 = np.percentile(fast[:, 0], 95)
    print(f"\nnumpy decoder vs model.decode on all {len(points)} points: max abs difference {gap:.1e}")
    print(f"predict / decode, p50: {np.median(slow[:, 0]) / np.median(fast[:, 0]):.0f}x")
    print(f"decode p95 {p95:.3f} ms (target <= 2 ms: {'met' if p95 <= 2 else 'MISSED'})")
    print(f"load average at end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
