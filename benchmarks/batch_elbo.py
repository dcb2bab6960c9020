"""What do the app's retrain recipes (vae.limits: FULL_DATA_RETRAIN, QUICK_RETRAIN) cost and give?

    VAE_DATA_DIR=... python -m benchmarks.batch_elbo [--epochs 10] [--settings 128:0.001 250:0.002 500:0.003:cosine:e8]
    VAE_DATA_DIR=... python -m benchmarks.batch_elbo --subset 10000 --settings 128:0.001:e5 100:0.003:e10

Each setting (batch size : learning rate, then optionally :noxla for jit_compile=False, :cosine for
the cosine learning-rate schedule, :eN for N epochs instead of --epochs) trains a fresh model with
train.py's own code: vae.training.new_model, make_datasets, apply_epoch_schedule and run_epoch (one
epoch of training, then the test set), one setting after the other in this process.
Printed per setting: the CPU seconds of the first epoch (it includes tracing and XLA
compilation) and the median of the others, the wall seconds, and after the last epoch
the test loss Keras reports (val_loss, what history.json holds) and the test negative
ELBO of vae.evaluate (one z sample per image, seed 0; what metrics.json holds), both in
nats per image: lower is better; and the digits clearly drawn on the 20 x 20 latent grid
(vae.evaluate's coverage, as metrics.json holds it). The first setting is the baseline the
others are compared with.

CPU seconds (this process, all threads) are the robust figure on a shared machine;
wall seconds grow with the load average, printed beside them.
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import dataclass

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from vae import evaluate, likelihood, training  # noqa: E402
from vae.config import VAEConfig  # noqa: E402
from vae.data import load_vectors  # noqa: E402
from vae.generate import latent_map  # noqa: E402
from vae.inference import NumpyClassifier  # noqa: E402


def clock() -> np.ndarray:
    """(wall seconds, CPU seconds of this process): subtract two readings for both durations."""
    return np.array([time.perf_counter(), time.process_time()])


def train_one(setting: Setting, kl_weight: float, x: np.ndarray, x_test: np.ndarray, y_test: np.ndarray) -> dict:
    config = VAEConfig(
        batch_size=setting.batch_size, lr=setting.lr, epochs=setting.epochs, lr_schedule=setting.lr_schedule,
        kl_weight=kl_weight,
    )  # fmt: skip
    model = training.new_model(config, jit_compile=setting.xla)
    datasets = training.make_datasets(config, x, x_test, y_test)
    times, entry = [], {}
    for epoch in range(setting.epochs):
        t0 = clock()
        training.apply_epoch_schedule(model, config, epoch)
        entry = training.run_epoch(model, datasets)
        times.append(clock() - t0)
    times = np.array(times)
    return {
        "first_cpu": times[0, 1],
        "median_cpu": float(np.median(times[1:, 1])) if setting.epochs > 1 else float("nan"),
        "cpu": times[:, 1].sum(),
        "wall": times[:, 0].sum(),
        "val_loss": entry["val_loss"],
        "neg_elbo": likelihood.negative_elbo(model, x_test, seed=0)["neg_elbo"],
        "digits": digits_drawn(model),
    }


def digits_drawn(model) -> int | None:
    """How many digits the 20 x 20 grid draws clearly, as vae.evaluate counts them (None without its classifier)."""
    if not evaluate.CLASSIFIER_PATH.is_file():
        return None
    grid = latent_map(model, NumpyClassifier.load(evaluate.CLASSIFIER_PATH), n=20, spacing="quantile")
    return evaluate.coverage(grid)["n_digits"]


@dataclass(frozen=True)
class Setting:
    batch_size: int
    lr: float
    epochs: int
    xla: bool = True
    lr_schedule: str = "constant"


def parse_setting(text: str, epochs: int) -> Setting:
    """'500:0.003' -> batch 500, lr 0.003, XLA on, `epochs`; then any of ':noxla', ':cosine', ':e8'."""
    batch, lr, *flags = text.split(":")
    given = [int(flag[1:]) for flag in flags if flag.startswith("e") and flag[1:].isdigit()]
    schedule = "cosine" if "cosine" in flags else "constant"
    return Setting(int(batch), float(lr), given[-1] if given else epochs, "noxla" not in flags, schedule)


def label(setting: Setting) -> str:
    text = f"batch {setting.batch_size} lr {setting.lr:g} e{setting.epochs}"
    return text + ("" if setting.xla else " no XLA") + ("" if setting.lr_schedule == "constant" else " cosine")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument(
        "--settings",
        nargs="+",
        default=["128:0.001", "250:0.002", "500:0.003"],
        help="batch:lr[:noxla][:cosine][:eN], baseline first",
    )
    p.add_argument("--subset", type=int, default=None, help="train on the first N images (default: all)")
    p.add_argument("--kl-weight", type=float, default=1.0)
    p.add_argument("--data-dir", default=None)
    args = p.parse_args()
    settings = [parse_setting(s, args.epochs) for s in args.settings]

    x, _ = load_vectors("train", "mnist", args.data_dir, args.subset)
    x_test, y_test = load_vectors("test", "mnist", args.data_dir)
    print(f"{len(x):,} training images, kl_weight {args.kl_weight:g}, seed 0; {os.cpu_count()} CPUs", flush=True)
    print(f"{'setting':<34} {'epoch 1 CPU s':>13} {'later CPU s':>11} {'all CPU s':>9} {'wall s':>7}  "
          f"{'test val_loss':>13} {'test -ELBO':>10} {'digits':>6}  load", flush=True)  # fmt: skip
    results = []
    for setting in settings:
        r = train_one(setting, args.kl_weight, x, x_test, y_test)
        results.append(r)
        print(
            f"{label(setting):<34} {r['first_cpu']:>13.1f} {r['median_cpu']:>11.1f} {r['cpu']:>9.1f} {r['wall']:>7.1f}  "
            f"{r['val_loss']:>13.2f} {r['neg_elbo']:>10.2f} {r['digits'] if r['digits'] is not None else '-':>6}  "
            f"{os.getloadavg()[0]:.1f}",
            flush=True,
        )
    base = results[0]
    for setting, r in zip(settings[1:], results[1:], strict=True):
        print(
            f"{label(setting)} vs {label(settings[0])}: test -ELBO {r['neg_elbo'] - base['neg_elbo']:+.2f} nats "
            f"({r['neg_elbo']:.2f} vs {base['neg_elbo']:.2f}), CPU per later epoch "
            f"x{r['median_cpu'] / base['median_cpu']:.2f}, first epoch {r['first_cpu'] - base['first_cpu']:+.1f} CPU s, "
            f"all epochs x{r['cpu'] / base['cpu']:.2f}"
        )


if __name__ == "__main__":
    main()
