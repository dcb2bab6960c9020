"""Train a VAE on MNIST and write a run directory the app can watch live.

    python train.py --kl-weight 1 --epochs 30 --out runs/my-run
    python train.py --out runs/my-run --epochs 50 --resume      # continue to epoch 50
    python train.py --subset 2000 --epochs 2 --out runs/quick    # a quick demo

After every epoch RUN_DIR gets the model, history.json, samples/epoch_NNN.png and
status.json, each written atomically. Ctrl-C or SIGTERM stops after the current batch
with status "cancelled"; the last completed epoch stays loadable.

This file is the command line only: the training itself (datasets, one epoch, the loop and
what it writes) is vae/training.py.
"""

from __future__ import annotations

import argparse
import importlib
import signal
import sys
import time
import traceback
from pathlib import Path

from filelock import FileLock, Timeout

from vae import standby
from vae.config import LR_SCHEDULES, VAEConfig
from vae.io import write_status
from vae.limits import FULL_DATA_RETRAIN, MAX_EPOCHS, MAX_LATENT_DIM, QUICK_RETRAIN, RETRAIN_LABEL_WEIGHT
from vae.messages import Message


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
    p.add_argument("--kl-warmup", type=int, default=defaults.kl_warmup_epochs, metavar="EPOCHS",
                   help="ramp the KL weight up linearly over the first EPOCHS epochs (0: off)")  # fmt: skip
    p.add_argument("--lr-schedule", default=defaults.lr_schedule, choices=LR_SCHEDULES,
                   help="cosine: decay the learning rate to 0 over --epochs")  # fmt: skip
    p.add_argument("--augment", action="store_true",
                   help="the encoder sees shifted/rotated/scaled/sheared/restroked digits (vae.augment)")  # fmt: skip
    p.add_argument("--code-consistency", type=float, default=defaults.code_consistency, metavar="WEIGHT",
                   help="with --augment: ELBO on clean digits, distorted codes pulled onto clean ones (0: off)")  # fmt: skip
    p.add_argument("--label-weight", type=float, default=defaults.label_weight, metavar="WEIGHT",
                   help="a head reads the digit from each code; its cross-entropy joins the loss (0: off)")  # fmt: skip
    p.add_argument("--resume", action="store_true", help="continue RUN_DIR from its last completed epoch")
    args = p.parse_args(argv)
    if not 1 <= args.epochs <= MAX_EPOCHS:
        p.error(f"--epochs must be between 1 and {MAX_EPOCHS}")
    if not 0 <= args.kl_warmup <= args.epochs:
        p.error("--kl-warmup must be between 0 and --epochs")
    if not 1 <= args.latent_dim <= MAX_LATENT_DIM:
        p.error(f"--latent-dim must be between 1 and {MAX_LATENT_DIM}")
    try:
        config_from_args(args)  # VAEConfig's own checks, said before TensorFlow is imported
    except ValueError as err:
        p.error(str(err))
    return args


def stop_on_signals(stop) -> None:
    """SIGINT/SIGTERM set ``stop.requested``: training ends after the current batch; a second Ctrl-C means now."""

    def handle(signum, frame) -> None:
        if stop.requested:
            raise KeyboardInterrupt
        stop.requested = True
        print(f"\n{signal.Signals(signum).name}: stopping after this batch...", file=sys.stderr)

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, handle)


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


def config_from_args(args: argparse.Namespace) -> VAEConfig:
    return VAEConfig(
        latent_dim=args.latent_dim,
        hidden=tuple(int(h) for h in args.hidden.split(",") if h.strip()),
        kl_weight=args.kl_weight,
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        seed=args.seed,
        dataset=args.dataset,
        subset=args.subset,
        binarize=args.binarize,
        kl_warmup_epochs=args.kl_warmup,
        lr_schedule=args.lr_schedule,
        augment=args.augment,
        code_consistency=args.code_consistency,
        label_weight=args.label_weight,
    )


def train(args: argparse.Namespace) -> int:
    from vae import io, training  # TensorFlow: imported only once the flags are known to be good

    run_dir = Path(args.out)
    lock = lock_run_dir(run_dir)  # held until this process exits
    if lock is None:
        print(f"{run_dir} is being written by another train.py; wait for it or cancel it", file=sys.stderr)
        return 2
    stop = training.StopFlag()
    stop_on_signals(stop)
    if args.resume:
        run = io.load_run(run_dir)
        config, model, history = run.config, run.model, run.history
        config.epochs = args.epochs
    elif (run_dir / "history.json").exists():
        print(f"{run_dir} already holds a run: use --resume to continue it or choose another --out", file=sys.stderr)
        return 2
    else:
        config = config_from_args(args)
        model, history = training.new_model(config), []
    training.train_run(run_dir, config, model, history, stop, args.data_dir)
    return 0


def warm_up() -> None:
    """A waiting train.py's head start: the default model traced at the app's two retrain batch sizes."""
    training = importlib.import_module("vae.training")
    # the app's retrains train the label head unless the student turns it off (vae.jobs.start)
    config = VAEConfig(label_weight=RETRAIN_LABEL_WEIGHT)
    training.warm_up((FULL_DATA_RETRAIN.batch_size, QUICK_RETRAIN.batch_size), config)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == [standby.FLAG]:  # started ahead by vae.jobs.prepare: TensorFlow imported, then the job's arguments
        argv = standby.wait_for_order(*argv[1:], warm_up=warm_up)
    args = parse_args(argv)
    try:
        return train(args)
    except Exception as err:
        traceback.print_exc()
        message = Message("status.failed", "{kind}: {error}", kind=type(err).__name__, error=str(err))
        try:
            write_status(Path(args.out), state="failed", message=message, finished=time.time())
        except OSError as status_err:  # the disk itself refuses: say so where someone can read it
            print(f"could not record the failure in status.json: {status_err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
