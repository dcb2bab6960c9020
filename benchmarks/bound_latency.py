"""The bound panel for one digit: vae.digit_bound + vae.exact_posterior, as the app's server runs them.

    VAE_DATA_DIR=... python -m benchmarks.bound_latency [--run pretrained/elbo-kl1] [--digits 20] [--no-tf]

Target: p95 <= 0.5 s per digit (both calls, a fresh digit each time, numpy, no TensorFlow).

Prints, in the same run:
  per digit   digit_bound (k=1000), then exact_posterior (fitted window) on the same digit, wall and
              this process's CPU time, p50 / p95 / max over the test digits
  baseline    one plain numpy decode of the whole 300 x 300 quadrature grid: what integrating one
              digit over every node would cost before any likelihood is computed
  check       the adaptive sum (vae.bound.SCAN_*) against the sum over every node of the default grid, on
              the same digits; and how many of them the panel refines on a fitted grid (vae.bound.located)
  TF vs numpy the same full-grid quadrature for a batch of images, vae.likelihood's TensorFlow/XLA sum
              against vae.bound's numpy one: why the evaluator keeps its own (--no-tf skips it)
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from tests.helpers import find_run  # noqa: E402
from vae import bound, data, densities  # noqa: E402
from vae.io import load_run  # noqa: E402


def timed(fn, *args, **kwargs) -> tuple[object, float, float]:
    """(result, wall seconds, CPU seconds of this process)."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - wall, time.process_time() - cpu


def row(name: str, seconds: np.ndarray) -> str:
    p50, p95 = np.percentile(seconds, [50, 95]) * 1e3
    return f"{name:<44} {p50:8.1f} {p95:8.1f} {seconds.max() * 1e3:8.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", help="run directory (default: the default pretrained run)")
    parser.add_argument("--digits", type=int, default=20, help="test digits, the first N (default %(default)s)")
    parser.add_argument("--tf-images", type=int, default=500, help="images in the TF vs numpy comparison")
    parser.add_argument("--no-tf", action="store_true", help="skip the TF vs numpy comparison (no TensorFlow)")
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args()

    run_dir = find_run(args.run)
    model = load_run(run_dir, numpy=True).model
    x, _ = data.load_vectors("test", data_dir=args.data_dir, subset=max(args.digits, args.tf_images))
    digits = x[: args.digits]
    print(f"model: {run_dir}; {len(digits)} test digits; {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")

    bound.digit_bound(model, x[-1]), bound.exact_posterior(model, x[-1])  # warm-up: BLAS threads, caches
    wall = np.zeros((len(digits), 3))
    cpu = np.zeros(len(digits))
    shown = np.zeros(len(digits))  # the panel's exact NLL: refined on a fitted grid where the posterior is narrow
    for i, digit in enumerate(digits):
        terms, wall[i, 0], cpu_bound = timed(bound.digit_bound, model, digit)
        _, wall[i, 1], cpu_posterior = timed(bound.exact_posterior, model, digit)
        wall[i, 2], cpu[i], shown[i] = wall[i, 0] + wall[i, 1], cpu_bound + cpu_posterior, terms["exact_nll"]
    adaptive = np.array([-bound.integrate_one(model, digit[None]).log_px for digit in digits])

    rule = bound.Quadrature()
    nodes = rule.nodes()
    decodes = [timed(model.decode, nodes)[1] for _ in range(3)]
    full = -rule.log_integral(densities.log_joint(model, digits, nodes))

    print(f"\n{'milliseconds per digit':<44} {'p50':>8} {'p95':>8} {'max':>8}")
    print(row("digit_bound (k=1000)", wall[:, 0]))
    print(row(f"exact_posterior (n={bound.POSTERIOR_N}, fitted window)", wall[:, 1]))
    print(row("both: the bound panel's work", wall[:, 2]))
    print(row("  CPU seconds of this process, both", cpu))
    print(row(f"baseline: decode all {len(nodes):,} grid nodes once", np.array(decodes)))
    evaluated = bound.integrate_one(model, digits[:1]).nodes_evaluated
    print(f"\nadaptive sum vs every node: max |difference| {np.abs(adaptive - full).max():.1e} nats over the digits")
    print(f"(digit 0: {evaluated:,} of {len(nodes):,} nodes decoded)")
    refined = np.abs(shown - adaptive) > 1e-9
    print(
        f"refined on a fitted grid (a posterior narrower than {bound.REFINE_BELOW} default cells): {refined.sum()} of "
        f"{len(digits)} digits, by up to {np.abs(shown - adaptive).max():.2f} nats against the default grid"
    )

    if not args.no_tf:
        import keras

        import vae.model  # noqa: F401  (registers the VAE class)
        from vae import likelihood

        keras_model = keras.models.load_model(run_dir / "model.keras", compile=False)
        batch = x[: args.tf_images]
        likelihood.exact_nll(keras_model, batch[:10])  # XLA compiles outside the timing
        tf_figure, tf_wall, _ = timed(likelihood.exact_nll, keras_model, batch)
        np_figure, np_wall, _ = timed(lambda: -rule.log_integral(densities.log_joint(model, batch, nodes)).mean())
        print(f"\nfull-grid quadrature of {len(batch)} images: TensorFlow/XLA (vae.likelihood) {tf_wall:.1f} s, "
              f"numpy (vae.bound) {np_wall:.1f} s: {np_wall / tf_wall:.1f}x; "
              f"figures {tf_figure['nll']:.4f} vs {np_figure:.4f} nats")  # fmt: skip

    p95 = np.percentile(wall[:, 2], 95)
    print(f"\nbound panel p95 {p95 * 1e3:.0f} ms (target <= 500 ms: {'met' if p95 <= 0.5 else 'MISSED'})")
    print(f"load average at end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
