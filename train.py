"""Train a VAE on MNIST and write a run directory the app can watch live.

    python train.py --kl-weight 1 --epochs 30 --out runs/my-run
    python train.py --out runs/my-run --epochs 50 --resume      # continue to epoch 50
    python train.py --subset 2000 --epochs 2 --out runs/quick    # a one-minute demo

After every epoch RUN_DIR gets the model, history.json, samples/epoch_NNN.png and
status.json, each written atomically. Ctrl-C or SIGTERM stops after the current batch
with status "cancelled"; the last completed epoch stays loadable.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
import traceback
from pathlib import Path

from filelock import FileLock, Timeout

from vae.config import VAEConfig
from vae.io import process_created, write_status
from vae.limits import MAX_EPOCHS, MAX_LATENT_DIM


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    defaults = VAEConfig()
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True, help="run directory to write (RUN_DIR)")
    p.add_argument("--epochs", type=int, default=defaults.epochs, help="total epochs (with --resume: train up to this)")
    p.add_argument("--kl-weight", type=float, default=defaults.kl_weight, help="1 = true ELBO; 0.0784 = seed tutorial")
    p.add_argument("--latent-dim", type=int, default=defaults.latent_dim)
    p.add_argument("--hidden", default=",".join(map(str, defaults.hidden)), help="hidden widths, e.g. 512,256")
    p.add_argument("--batch-size", type=int, default=defaults.batch_size)
    p.add_argument("--lr", type=float, default=defaults.lr)
    p.add_argument("--seed", type=int, default=defaults.seed)
    p.add_argument("--dataset", default=defaults.dataset, choices=["mnist", "fashion-mnist"])
    p.add_argument(
        "--data-dir", default=None, help="folder with the IDX files (else $VAE_DATA_DIR, Keras cache, download)"
    )
    p.add_argument("--subset", type=int, default=None, help="train on the first N training images only")
    p.add_argument("--binarize", action="store_true", help="dynamic binarization of training images")
    p.add_argument("--resume", action="store_true", help="continue RUN_DIR from its last completed epoch")
    args = p.parse_args(argv)
    if not 1 <= args.epochs <= MAX_EPOCHS:
        p.error(f"--epochs must be between 1 and {MAX_EPOCHS}")
    if not 1 <= args.latent_dim <= MAX_LATENT_DIM:
        p.error(f"--latent-dim must be between 1 and {MAX_LATENT_DIM}")
    return args


class StopRequest:
    """Turns SIGINT/SIGTERM into a flag the training loop checks after each batch."""

    def __init__(self) -> None:
        self.requested = False
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._handle)

    def _handle(self, signum, frame) -> None:
        if self.requested:  # a second Ctrl-C means now
            raise KeyboardInterrupt
        self.requested = True
        print(f"\n{signal.Signals(signum).name}: stopping after this batch...", file=sys.stderr)


def make_progress_callback(run_dir: Path, stop: StopRequest, epoch: int, epochs: int, steps: int):
    import keras

    class Progress(keras.callbacks.Callback):
        """Within-epoch progress: status.json twice a second, a bar on a terminal, and the stop flag."""

        interrupted = False
        last_write = 0.0

        def on_train_batch_end(self, batch, logs=None):
            done = min(batch + 1, steps) / steps
            now = time.time()
            if now - self.last_write > 0.5:
                self.last_write = now
                write_status(run_dir, progress=round(done, 3))
                if sys.stderr.isatty():
                    bar = "#" * int(30 * done)
                    loss = float((logs or {}).get("loss", float("nan")))
                    print(
                        f"\repoch {epoch + 1}/{epochs} [{bar:<30}] {done:4.0%} loss {loss:7.2f}",
                        end="",
                        file=sys.stderr,
                    )
            if stop.requested:
                self.interrupted = True
                self.model.stop_training = True

    return Progress()


def lock_run_dir(run_dir: Path) -> FileLock | None:
    """Hold an exclusive lock on RUN_DIR for this process's life: two trainers writing one run
    would interleave epochs. Returns the held lock (an OS lock on every platform, released by the
    kernel if the process dies), or None if another process holds it."""
    run_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(run_dir / ".train.lock")
    try:
        lock.acquire(timeout=0)
    except Timeout:
        return None
    return lock


def train(args: argparse.Namespace) -> int:
    import keras
    import numpy as np

    from vae import data, evaluate, generate, io
    from vae.model import build_vae

    run_dir = Path(args.out)
    lock = lock_run_dir(run_dir)
    if lock is None:
        print(f"{run_dir} is being written by another train.py; wait for it or cancel it", file=sys.stderr)
        return 2
    stop = StopRequest()
    if args.resume:
        run = io.load_run(run_dir)
        config, model, history = run.config, run.model, run.history
        config.epochs = args.epochs
    else:
        if (run_dir / "history.json").exists():
            print(
                f"{run_dir} already holds a run: use --resume to continue it or choose another --out", file=sys.stderr
            )
            return 2
        hidden = tuple(int(h) for h in args.hidden.split(",") if h.strip())
        config = VAEConfig(
            latent_dim=args.latent_dim,
            hidden=hidden,
            kl_weight=args.kl_weight,
            epochs=args.epochs,
            batch_size=args.batch_size,
            lr=args.lr,
            seed=args.seed,
            dataset=args.dataset,
            subset=args.subset,
            binarize=args.binarize,
        )
        keras.utils.set_random_seed(config.seed)
        model, history = build_vae(config), []
    start = len(history)
    run_dir.mkdir(parents=True, exist_ok=True)
    for stale in run_dir.rglob(".*.tmp*"):  # half-written files of a killed run: never read, only taking disk
        stale.unlink(missing_ok=True)
    io.atomic_write_json(run_dir / "config.json", config.to_dict())
    write_status(
        run_dir, state="running", epoch=start, epochs=config.epochs, progress=0.0, pid=os.getpid(),
        process_created=process_created(), started=time.time(), message="loading data", finished=None,
    )  # fmt: skip

    x_train, _ = data.load_vectors("train", config.dataset, args.data_dir, config.subset)
    x_test, y_test = data.load_vectors("test", config.dataset, args.data_dir)
    # seed + start: a resumed run sees a fresh shuffle order rather than epoch 1's again
    train_ds = data.make_dataset(x_train, config.batch_size, seed=config.seed + start, binarize=config.binarize)
    test_ds = data.make_dataset(x_test, 1000, shuffle=False)
    steps = -(-len(x_train) // config.batch_size)
    write_status(run_dir, message="")

    for epoch in range(start, config.epochs):
        t0 = time.time()
        progress = make_progress_callback(run_dir, stop, epoch, config.epochs, steps)
        fit = model.fit(train_ds, epochs=1, verbose=0, shuffle=False, callbacks=[progress]).history
        if progress.interrupted:
            break  # a partial epoch is not committed
        val = model.evaluate(test_ds, verbose=0, return_dict=True)
        entry = {"epoch": epoch + 1, **{k: float(v[-1]) for k, v in fit.items()}}
        entry |= {f"val_{k}": float(v) for k, v in val.items()}
        entry["seconds"] = round(time.time() - t0, 3)
        history.append(entry)
        io.commit_epoch(run_dir, model, history)
        sheet = generate.sample_sheet(model, seed=config.seed)
        io.atomic_write_bytes(run_dir / "samples" / f"epoch_{epoch + 1:03d}.png", generate.to_png(sheet, scale=2))
        write_status(run_dir, epoch=epoch + 1, progress=0.0)
        print(
            f"\repoch {epoch + 1}/{config.epochs}  loss {entry['loss']:.2f} (rec {entry['reconstruction']:.2f} + "
            f"{config.kl_weight:g} x kl {entry['kl']:.2f})  test {entry['val_loss']:.2f}  {entry['seconds']:.1f}s",
            file=sys.stderr,
        )
        if stop.requested:
            break

    z_mean, z_log_var = model.encode(x_test)
    io.atomic_save_npz(run_dir / "latents.npz", mean=z_mean, log_var=z_log_var, labels=y_test.astype(np.uint8))
    if history and not stop.requested:
        evaluate.write_metrics(run_dir, model, x_test, cheap=True)
    state = "cancelled" if stop.requested else "finished"
    write_status(run_dir, state=state, message=f"{state} after epoch {len(history)}", finished=time.time())
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        return train(args)
    except Exception as err:
        traceback.print_exc()
        message = f"{type(err).__name__}: {err}"
        try:
            write_status(Path(args.out), state="failed", message=message, finished=time.time())
        except OSError as status_err:  # the disk itself refuses: say so where someone can read it
            print(f"could not record the failure in status.json: {status_err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
