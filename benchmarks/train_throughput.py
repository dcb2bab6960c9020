"""Training images per second, ours against the seed tutorial's loop, same model, same run.

    VAE_DATA_DIR=... python -m benchmarks.train_throughput [--epochs 5] [--seed-batches 60]

Ours is train.py's own code: vae.training.new_model (vae.model.build_vae: XLA, 10 steps per
call), load_datasets (vae.batches.make_dataset) and train_epoch with the progress callback train.py
passes (status.json written twice a second, into a temporary folder here). The first epoch pays
for tracing and XLA compilation and is reported apart; the next --epochs are timed one by one,
which also shows whether epochs slow down as training goes on (Adam's moments for always-black
pixels decaying into subnormal floats would slow every step; TensorFlow flushes them, checked below).

The baseline is the seed tutorial's loop on a fresh copy of the same model: a Python
loop over from_tensor_slices(x).shuffle(60000).batch(128), an eager GradientTape step
(no tf.function), a keras.metrics.Mean updated per batch. It is far slower than ours, so
it is timed over --seed-batches steps and extrapolated to the epoch: time to the first
batch (filling the 60,000-image shuffle buffer) + median step x 469 steps.

The machine's fp32 matmul peak (2048^3, best of 10) is measured in the same run and the
training step's share of it printed: FLOPs per image = 3 x forward (backward ~2x
forward), forward = 2 x multiply-adds of the Dense kernels.

Every figure is given twice: wall-clock seconds, and this process's CPU seconds. On a
shared machine (load above the core count) wall time includes waiting for a core; CPU
seconds mostly do not, so ratios and the creep check are also given on CPU time.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from vae import training  # noqa: E402
from vae.config import VAEConfig  # noqa: E402
from vae.data import load_vectors  # noqa: E402
from vae.losses import vae_loss  # noqa: E402
from vae.model import build_vae  # noqa: E402


def clock() -> np.ndarray:
    """(wall seconds, CPU seconds of this process, all threads): subtract two readings for both durations."""
    return np.array([time.perf_counter(), time.process_time()])


def matmul_peak(n: int = 2048, reps: int = 10) -> np.ndarray:
    """fp32 GFLOP/s of one n^3 matmul, best of reps: (per wall second, per CPU second)."""
    a, b = tf.random.normal([n, n]), tf.random.normal([n, n])
    tf.linalg.matmul(a, b).numpy()  # warm up oneDNN
    best = np.array([np.inf, np.inf])
    for _ in range(reps):
        t0 = clock()
        tf.linalg.matmul(a, b).numpy()
        best = np.minimum(best, clock() - t0)
    return 2 * n**3 / best / 1e9


def training_flops_per_image(model) -> float:
    """3 x forward FLOPs; forward = 2 x MACs of every Dense kernel in encoder and decoder."""
    macs = sum(int(np.prod(w.shape)) for w in model.trainable_weights if len(w.shape) == 2)
    return 3 * 2 * macs


def denormals_flushed() -> dict[str, bool]:
    """Does TensorFlow turn a subnormal result (1e-30 * 1e-10 = 1e-40 < 1.2e-38) into 0? Per execution mode."""
    a, b = tf.constant([1e-30]), tf.constant([1e-10])
    modes = {
        "eager": lambda: a * b,
        "tf.function": lambda: tf.function(lambda u, v: u * v)(a, b),
        "XLA": lambda: tf.function(lambda u, v: u * v, jit_compile=True)(a, b),
    }
    return {name: float(run()[0]) == 0.0 for name, run in modes.items()}


def time_ours(
    datasets: training.Datasets, config: VAEConfig, epochs: int
) -> tuple[np.ndarray, list[np.ndarray], keras.Model]:
    """(first epoch incl. compile, each following epoch, model), times as (wall, CPU): train.py's epoch."""
    model = training.new_model(config)
    times = []
    with tempfile.TemporaryDirectory() as run_dir:
        for _ in range(epochs + 1):
            progress = training.EpochProgress(datasets.steps, training.StopFlag(), Path(run_dir))
            t0 = clock()
            training.train_epoch(model, datasets, progress)
            times.append(clock() - t0)
    return times[0], times[1:], model


def time_seed_loop(x: np.ndarray, config: VAEConfig, batches: int) -> tuple[np.ndarray, list[np.ndarray]]:
    """(time to the first batch, each later step), as (wall, CPU), of the seed tutorial's loop."""
    keras.utils.set_random_seed(config.seed)
    model = build_vae(config)  # only its encoder, sampling layer and decoder are used: no compile, no fit
    optimizer = keras.optimizers.Adam(learning_rate=config.lr)
    loss_metric = keras.metrics.Mean()

    def train_step(batch):
        with tf.GradientTape() as tape:
            z_mean, z_log_var = model.encoder(batch, training=True)
            logits = model.decoder(model.sampling([z_mean, z_log_var]), training=True)
            loss, _, _ = vae_loss(batch, logits, z_mean, z_log_var, config.kl_weight)
        grads = tape.gradient(loss, model.trainable_weights)
        optimizer.apply(grads, model.trainable_weights)
        loss_metric.update_state(loss)

    ds = tf.data.Dataset.from_tensor_slices(x).shuffle(len(x)).batch(config.batch_size)
    for batch in ds.take(3):  # eager warm-up: first-call kernels, optimizer variables
        train_step(batch)
    t0 = clock()
    steps, first_batch = [], None
    for batch in ds.take(batches + 1):
        if first_batch is None:
            first_batch = clock() - t0
        t1 = clock()
        train_step(batch)
        float(loss_metric.result())  # the seed printed the running mean: wait for the step to finish
        steps.append(clock() - t1)
    return first_batch, steps[1:]


def wall_cpu(seconds: np.ndarray) -> str:
    return f"{seconds[0]:.2f} s wall / {seconds[1]:.2f} s CPU"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--epochs", type=int, default=5, help="timed epochs of our path after the compile epoch")
    p.add_argument("--seed-batches", type=int, default=60, help="steps of the seed loop to time (of 469 per epoch)")
    args = p.parse_args()

    config = VAEConfig()
    x, _ = load_vectors("train")
    datasets = training.make_datasets(config, x, *load_vectors("test"))  # what training.load_datasets makes
    n, steps_per_epoch = len(x), datasets.steps
    print(f"{n} images, batch {config.batch_size}, hidden {config.hidden}, latent {config.latent_dim}")
    print(f"TensorFlow {tf.__version__}, Keras {keras.__version__}, {os.cpu_count()} CPUs")
    print(f"load average at start: {os.getloadavg()[0]:.1f} (above {os.cpu_count()}: wall times are pessimistic)")

    peak = matmul_peak()
    print(f"\nfp32 matmul 2048^3, best of 10: {peak[0]:.0f} GFLOP/s per wall second, {peak[1]:.0f} per CPU second")

    first, epochs, model = time_ours(datasets, config, args.epochs)
    ours_epoch = np.median(epochs, axis=0)
    flops = training_flops_per_image(model)
    achieved = n * flops / ours_epoch / 1e9
    print(
        f"\nours (vae.training.train_epoch, as train.py): first epoch {wall_cpu(first)}, incl. tracing and XLA compile"
    )
    print("  timed epochs, wall s: " + ", ".join(f"{t[0]:.2f}" for t in epochs))
    print("  timed epochs, CPU s:  " + ", ".join(f"{t[1]:.2f}" for t in epochs))
    print(f"  median {wall_cpu(ours_epoch)} per epoch = {n / ours_epoch[0]:,.0f} images/s")
    print(
        f"  {flops / 1e6:.2f} MFLOP per training image -> {achieved[0]:.1f} GFLOP/s = {achieved[0] / peak[0]:.1%} of "
        f"the matmul peak by wall time, {achieved[1] / peak[1]:.1%} by CPU time; "
        f"the peak bounds an epoch at {n * flops / 1e9 / peak[0]:.2f} s"
    )
    drift = epochs[-1] / epochs[0]
    print(f"  creep, last / first timed epoch: {drift[0]:.2f} wall, {drift[1]:.2f} CPU")
    print(f"  subnormal results flushed to zero by TensorFlow: {denormals_flushed()}")

    fill, steps = time_seed_loop(x, config, args.seed_batches)
    step = np.median(steps, axis=0)
    seed_epoch = fill + step * steps_per_epoch
    print(f"\nseed loop (eager GradientTape, Mean per batch): {len(steps)} steps timed, extrapolated to {n} images")
    print(f"  shuffle-buffer fill {wall_cpu(fill)}")
    print(f"  + median step {step[0] * 1e3:.1f} ms wall / {step[1] * 1e3:.1f} ms CPU x {steps_per_epoch} steps")
    print(f"  = {wall_cpu(seed_epoch)} per epoch = {n / seed_epoch[0]:,.0f} images/s")

    ratio = seed_epoch / ours_epoch
    verdict = "met" if ratio[0] >= 3 else "MISSED"
    print(
        f"\nspeed-up ours / seed: {ratio[0]:.1f}x by wall time, {ratio[1]:.1f}x by CPU time (target >= 3x: {verdict})"
    )
    print(f"load average at end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
