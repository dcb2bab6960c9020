"""Latency of decoding one 2-d point, on the paths the app and training use. Target: decode p95 <= 2 ms.

    python -m benchmarks.decode_latency [--run pretrained/elbo-kl1] [--calls 1000] [--predict-calls 100]

Times, on a fresh point per call and the same weights:

    NumpyVAE.decode(z)    vae.inference: what the app's server decodes with (grid, picked and
                          uploaded digits, server sliders of >2-D runs); the 2-D sliders and the
                          pad decode in the browser (benchmarks/drag_fps.py times that per frame)
    VAE.decode(z)         the Keras model's tf.function fast path (training, evaluation)
    eager tf.sigmoid(decoder(z)), and decoder.predict(z): Keras' batch API, the baseline
                          (fewer calls: it is slow)

and the PNG encoding the server does next (28 x 28 scaled 10x). Figures: benchmarks/README.md.

Percentiles are wall-clock; the last column is the median CPU time of this process
per call (all its threads), which on a loaded machine shows what a call costs once it
has a core: wall p95 well above it means the call waited for a core.

Uses --run, else the default (or first usable) pretrained run, else a tiny run trained now (needs MNIST).
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from tests.helpers import find_run  # noqa: E402
from vae import generate  # noqa: E402
from vae.io import load_run  # noqa: E402


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
    p.add_argument("--run", help="run directory (default: the default pretrained run)")
    p.add_argument("--calls", type=int, default=1000)
    p.add_argument("--predict-calls", type=int, default=100, help="model.predict is slow: fewer calls")
    args = p.parse_args()

    where = find_run(args.run)
    served, model = load_run(where, numpy=True).model, load_run(where, compile=False).model
    dim = model.latent_dim
    rng = np.random.default_rng(0)
    # one slider step = one new point, shaped as the app passes it: (1, latent_dim) float32
    points = rng.uniform(-4, 4, size=(args.calls, 1, dim)).astype(np.float32)
    print(f"model: {where}; latent_dim {dim}; {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")

    rows = {
        "NumpyVAE.decode(z)  [the app's server]": latencies_ms(served.decode, points),
        "VAE.decode(z)  [Keras tf.function]": latencies_ms(model.decode, points),
        "eager tf.sigmoid(decoder(z))": latencies_ms(
            lambda z: tf.sigmoid(model.decoder(z, training=False)).numpy(), points
        ),
        "decoder.predict(z)  [baseline]": latencies_ms(
            lambda z: model.decoder.predict(z, verbose=0), points[: args.predict_calls]
        ),
    }
    gap = np.abs(served.decode(points[:, 0]) - model.decode(points[:, 0])).max()
    image = served.decode(points[0]).reshape(28, 28)
    rows["to_png(image, scale=10)  [app, after]"] = latencies_ms(lambda _: generate.to_png(image, scale=10), points)

    print(f"\n{'milliseconds per call':<38} {'calls':>5} {'p50':>8} {'p95':>8} {'p99':>8} {'max':>8} {'CPU p50':>8}")
    for name, ms in rows.items():
        print(summary(name, ms))
    fast, slow = rows["NumpyVAE.decode(z)  [the app's server]"], rows["decoder.predict(z)  [baseline]"]
    p95 = np.percentile(fast[:, 0], 95)
    print(f"\nNumpyVAE vs the Keras model on all {len(points)} points: max abs difference {gap:.1e}")
    print(f"predict / NumpyVAE.decode, p50: {np.median(slow[:, 0]) / np.median(fast[:, 0]):.0f}x")
    print(f"decode p95 {p95:.3f} ms (target <= 2 ms: {'met' if p95 <= 2 else 'MISSED'})")
    print(f"load average at end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
