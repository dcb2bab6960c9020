"""What the per-epoch latent snapshot adds to an epoch, against that epoch, in the same run.

    VAE_DATA_DIR=... python -m benchmarks.snapshot_overhead [--epochs 4] [--subset N]

Trains a fresh model with train.py's own code (vae.training: new_model, make_datasets,
run_epoch with the progress callback) as an app retrain runs: on all 60,000 images with the
full-data recipe (vae.limits.FULL_DATA_RETRAIN), or with --subset at train.py's defaults, into
a temporary run directory. After each epoch it
times, one after the other, exactly the calls train.py's commit makes: write_snapshot (encode
the 2,000 fixed test digits, write latents/epoch_NNN.npz atomically), write_sample_sheet (the
sheet that was already written before snapshots existed) and vae.io.commit_epoch (model +
history.json). The first epoch includes XLA compilation and is reported apart.

Printed per epoch, wall and CPU seconds (this process, all threads): the epoch (training +
test set), the snapshot, the sheet and the commit; then the snapshot's median share of an
epoch (median epoch, median snapshot, later epochs only). Target: <= 3 %.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from vae import io, snapshots, training  # noqa: E402
from vae.config import VAEConfig  # noqa: E402
from vae.data import load_vectors  # noqa: E402
from vae.limits import FULL_DATA_RETRAIN  # noqa: E402


def clock() -> np.ndarray:
    """(wall seconds, CPU seconds of this process): subtract two readings for both durations."""
    return np.array([time.perf_counter(), time.process_time()])


def timed(call, *args) -> np.ndarray:
    """(wall, CPU) seconds of call(*args)."""
    t0 = clock()
    call(*args)
    return clock() - t0


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--epochs", type=int, default=4, help="epochs, the first of which includes compilation")
    p.add_argument("--subset", type=int, default=None, help="train on the first N images (default: all)")
    p.add_argument("--data-dir", default=None)
    args = p.parse_args()

    config = VAEConfig(epochs=args.epochs, subset=args.subset)
    if args.subset is None:  # as vae.jobs starts an app retrain: the recipe on all images, defaults on subsets
        config.batch_size, config.lr = FULL_DATA_RETRAIN.batch_size, FULL_DATA_RETRAIN.lr
    x, _ = load_vectors("train", "mnist", args.data_dir, args.subset)
    datasets = training.make_datasets(config, x, *load_vectors("test", "mnist", args.data_dir))
    model = training.new_model(config)
    print(f"{args.epochs} epochs on {len(x):,} images, batch {config.batch_size}, lr {config.lr:g}; "
          f"snapshot of {len(datasets.snapshot_index):,} test digits; {os.cpu_count()} CPUs, "
          f"load {os.getloadavg()[0]:.1f}", flush=True)  # fmt: skip
    print(f"{'epoch':>5} {'epoch s':>16} {'snapshot ms':>18} {'sheet ms':>16} {'commit ms':>18}  share (wall / CPU)")
    rows, history = [], []
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = Path(tmp)
        for epoch in range(1, args.epochs + 1):
            progress = training.EpochProgress(datasets.steps, training.StopFlag(), run_dir)
            t0 = clock()
            entry = training.run_epoch(model, datasets, progress)
            epoch_time = clock() - t0
            history.append({"epoch": epoch, **entry})
            snapshot = timed(training.write_snapshot, run_dir, model, datasets, epoch)
            sheet = timed(training.write_sample_sheet, run_dir, model, config, epoch)
            commit = timed(io.commit_epoch, run_dir, model, history)
            share = snapshot / epoch_time
            rows.append((epoch_time, snapshot))
            print(
                f"{epoch:>5} {epoch_time[0]:>7.2f} / {epoch_time[1]:>6.2f} {snapshot[0] * 1e3:>8.1f} / "
                f"{snapshot[1] * 1e3:>7.1f} {sheet[0] * 1e3:>7.1f} / {sheet[1] * 1e3:>6.1f} "
                f"{commit[0] * 1e3:>8.1f} / {commit[1] * 1e3:>7.1f}  {share[0]:.2%} / {share[1]:.2%}"
                + ("  (compiles)" if epoch == 1 else ""),
                flush=True,
            )
        entries = snapshots.load_epoch_latents(run_dir)
    assert [e["epoch"] for e in entries] == list(range(1, args.epochs + 1)), "a snapshot is missing"
    later = rows[1:] or rows
    epoch_median = np.median([r[0] for r in later], axis=0)
    snapshot_median = np.median([r[1] for r in later], axis=0)
    share = snapshot_median / epoch_median
    verdict = "met" if share[0] <= 0.03 else "MISSED"
    print(
        f"\nmedian of epochs {2 if len(rows) > 1 else 1}-{len(rows)}: epoch {epoch_median[0]:.2f} s wall / "
        f"{epoch_median[1]:.2f} s CPU, snapshot {snapshot_median[0] * 1e3:.1f} ms wall / "
        f"{snapshot_median[1] * 1e3:.1f} ms CPU"
    )
    print(f"snapshot / epoch: {share[0]:.2%} by wall time, {share[1]:.2%} by CPU time (target <= 3 %: {verdict})")
    print(f"load average at end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
