"""A 10-epoch retrain on all 60,000 images, started as the app starts it, within a lecture pause.

    VAE_DATA_DIR=... python -m benchmarks.retrain_pause [--epochs 10] [--subset N]

Calls vae.jobs.start, exactly what the app's Train button calls (train.py as a
subprocess writing a new run), into a temporary runs/ folder, and polls the run's
files four times a second the way the app's polling fragment does. The clock stops
when the run is finished (status.json) and the picker can show and open it
(vae.catalog.describe is ok, open_run loads the model). Printed: the total, and where
it went: Python + TensorFlow start-up, loading MNIST, each epoch (the first includes
XLA compilation), and the tail (test-set latents, metrics.json). Target: <= 60 s.

The machine is shared: the load average is printed at start, at its highest while
polling, and at the end. Wall times grow with it; the CPU seconds train.py used (sampled
with psutil while it runs) do much less, and divided by the core count they bound the
wall time on idle cores from below.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from tests.appserver import cpu_seconds
from vae import catalog, jobs
from vae.io import read_status


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--subset", type=int, default=None, help="train on the first N images (default: all)")
    p.add_argument("--kl-weight", type=float, default=1.0)
    p.add_argument("--timeout", type=float, default=1200, help="cancel the job after this many seconds")
    p.add_argument(
        "--runs-dir",
        help="the runs/ folder (default: a new empty one). Its .xla-cache keeps the compiled training step: "
        "a second run with the same folder times a retrain after the first of a lecture",
    )
    args = p.parse_args()

    runs_dir = Path(args.runs_dir or tempfile.mkdtemp(prefix="bench-retrain-"))
    runs_dir.mkdir(parents=True, exist_ok=True)
    os.environ[catalog.ROOT_ENV["runs"]] = str(runs_dir)  # the catalog lists this folder as runs/
    cached = any((runs_dir / jobs.XLA_CACHE).glob("*"))
    print(f"XLA compilation cache: {'warm (an earlier retrain compiled)' if cached else 'empty'}")
    loads = [os.getloadavg()[0]]
    print(f"runs/ = {runs_dir}; {os.cpu_count()} CPUs, load average {loads[0]:.1f} at start", flush=True)

    t0 = time.perf_counter()
    job = jobs.start(runs_dir, args.kl_weight, args.epochs, args.subset)
    marks: dict[str, float] = {}  # event -> seconds since the click
    cpu = 0.0  # train.py's CPU seconds, last reading

    def mark(event: str) -> None:
        if event not in marks:
            marks[event] = time.perf_counter() - t0
            print(f"  {marks[event]:6.1f} s  {event}", flush=True)

    while True:
        now = time.perf_counter() - t0
        status = read_status(job.run_dir)
        loads.append(os.getloadavg()[0])
        cpu = cpu_seconds(job.pid) or cpu
        if status.get("state") == "running":
            mark("train.py running (Python + TensorFlow imported)")
            if status.get("message") == "" or status.get("epoch"):
                mark("MNIST loaded")
        for epoch in range(1, (status.get("epoch") or 0) + 1):
            mark(f"epoch {epoch} committed")
        if (job.run_dir / "latents.npz").exists():
            mark("latents.npz written")
        if status.get("state") in ("failed", "cancelled", "interrupted"):
            log = (job.run_dir / "train.log").read_text()[-2000:]
            raise SystemExit(f"the job ended {status['state']}: {status.get('message')}\n{log}")
        if status.get("state") == "finished":
            mark("status finished")
            info = catalog.describe(f"runs/{job.name}")
            if info.ok:
                catalog.open_run(info)
                mark("listed by the catalog and loaded")
                break
        if now > args.timeout:
            jobs.cancel(runs_dir)
            raise SystemExit(f"not finished after {args.timeout:.0f} s: cancelled")
        time.sleep(0.25)

    total = marks["listed by the catalog and loaded"]
    epoch_times = [marks[f"epoch {e} committed"] for e in range(1, args.epochs + 1)]
    first = epoch_times[0] - marks["MNIST loaded"]
    rest = list(np.diff(epoch_times))
    print(f"\nwhere the {total:.1f} s went:")
    print(f"  {marks['train.py running (Python + TensorFlow imported)']:6.1f} s  start-up to train.py running")
    print(f"  {marks['MNIST loaded'] - marks['train.py running (Python + TensorFlow imported)']:6.1f} s  loading MNIST")
    print(f"  {first:6.1f} s  epoch 1 (incl. XLA compile, test evaluation, model save, sample sheet)")
    if rest:
        print(f"  {sum(rest):6.1f} s  epochs 2-{args.epochs}: " + ", ".join(f"{s:.1f}" for s in rest))
    print(f"  {total - epoch_times[-1]:6.1f} s  latents, metrics.json, status finished, listed and loaded")
    print(
        f"train.py used {cpu:.0f} CPU seconds (sampled until it exited): >= {cpu / os.cpu_count():.0f} s on idle cores"
    )
    print(f"load average: start {loads[0]:.1f}, highest {max(loads):.1f}, end {loads[-1]:.1f}")
    verdict = "met" if total <= 60 else "MISSED"
    size = f"{args.subset:,}" if args.subset else "60,000"
    print(f"{args.epochs} epochs on {size} images, click -> in the picker: {total:.1f} s (target <= 60 s: {verdict})")


if __name__ == "__main__":
    main()
