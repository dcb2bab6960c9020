"""Does a larger batch for the app's retrain (vae.limits.FULL_DATA_RETRAIN) cost test ELBO?

    VAE_DATA_DIR=... python -m benchmarks.batch_elbo [--epochs 10] [--settings 128:0.001 250:0.002 500:0.003 500:0.003:noxla]

Each setting (batch size : learning rate, optionally :noxla for jit_compile=False) trains a fresh
model with train.py's own code: vae.training.new_model, make_datasets and run_epoch (one epoch of
training, then the test set), one setting after the other in this process.
Printed per setting: the CPU seconds of the first epoch (it includes tracing and XLA
compilation) and the median of the others, the wall seconds, and after the last epoch
the test loss Keras reports (val_loss, what history.json holds) and the test negative
ELBO of vae.evaluate (one z sample per image, seed 0; what metrics.json holds), both in
nats per image: lower is better. The first setting is the baseline the others are
compared with.

CPU seconds (this process, all threads) are the robust figure on a shared machine;
wall seconds grow with the load average, printed beside them.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from vae import evaluate, training  # noqa: E402
from vae.config import VAEConfig  # noqa: E402
from vae.data import load_vectors  # noqa: E402


def clock() -> np.ndarray:
    """(wall seconds, CPU seconds of this process): subtract two readings for both durations."""
    return np.array([time.perf_counter(), time.process_time()])


def train_one(
    batch_size: int, lr: float, xla: bool, epochs: int, x: np.ndarray, x_test: np.ndarray, y_test: np.ndarray
) -> dict:
    config = VAEConfig(batch_size=batch_size, lr=lr, epochs=epochs)
    model = training.new_model(config, jit_compile=xla)
    datasets = training.make_datasets(config, x, x_test, y_test)
    times, entry = [], {}
    for _ in range(epochs):
        t0 = clock()
        entry = training.run_epoch(model, datasets)
        times.append(clock() - t0)
    times = np.array(times)
    return {
        "first_cpu": times[0, 1],
        "median_cpu": float(np.median(times[1:, 1])) if epochs > 1 else float("nan"),
        "wall": times[:, 0].sum(),
        "val_loss": entry["val_loss"],
        "neg_elbo": evaluate.negative_elbo(model, x_test, seed=0)["neg_elbo"],
    }


def parse_setting(text: str) -> tuple[int, float, bool]:
    """'500:0.003' -> (500, 0.003, XLA on); '500:0.003:noxla' -> XLA off."""
    batch, lr, *flags = text.split(":")
    return int(batch), float(lr), "noxla" not in flags


def label(setting: tuple[int, float, bool]) -> str:
    batch, lr, xla = setting
    return f"batch {batch} lr {lr:g}" + ("" if xla else " no XLA")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument(
        "--settings",
        nargs="+",
        default=["128:0.001", "250:0.002", "500:0.003"],
        help="batch:lr[:noxla], baseline first",
    )
    p.add_argument("--data-dir", default=None)
    args = p.parse_args()
    settings = [parse_setting(s) for s in args.settings]

    x, _ = load_vectors("train", "mnist", args.data_dir)
    x_test, y_test = load_vectors("test", "mnist", args.data_dir)
    print(f"{args.epochs} epochs on {len(x):,} images, seed 0; {os.cpu_count()} CPUs", flush=True)
    print(f"{'setting':<26} {'epoch 1 CPU s':>13} {'later CPU s':>11} {'wall s':>7}  "
          f"{'test val_loss':>13} {'test -ELBO':>10}  load", flush=True)  # fmt: skip
    results = []
    for setting in settings:
        r = train_one(*setting, args.epochs, x, x_test, y_test)
        results.append(r)
        print(
            f"{label(setting):<26} {r['first_cpu']:>13.1f} {r['median_cpu']:>11.1f} {r['wall']:>7.1f}  "
            f"{r['val_loss']:>13.2f} {r['neg_elbo']:>10.2f}  {os.getloadavg()[0]:.1f}",
            flush=True,
        )
    base = results[0]
    for setting, r in zip(settings[1:], results[1:], strict=True):
        print(
            f"{label(setting)} vs {label(settings[0])}: test -ELBO {r['neg_elbo'] - base['neg_elbo']:+.2f} nats "
            f"({r['neg_elbo']:.2f} vs {base['neg_elbo']:.2f}), CPU per later epoch "
            f"x{r['median_cpu'] / base['median_cpu']:.2f}, first epoch {r['first_cpu'] - base['first_cpu']:+.1f} CPU s"
        )


if __name__ == "__main__":
    main()
