"""SIGKILL train.py at random moments and check that what it leaves behind is always usable.

    VAE_DATA_DIR=/path/to/mnist python tests/stress/kill_training.py [--trials 20] [--seed 0]

Each trial is a fresh train.py process (a fresh run, or --resume of the run the previous
trial killed), killed with SIGKILL at a moment chosen to land in one phase: start-up,
data loading, mid-epoch, while the epoch's latent snapshot, the model or history.json is
being written, just after a commit, or during the final writes. After every kill it checks:

  - load_run() loads the run when history.json exists, else raises RunError;
  - history.json names model_epoch_NNN.keras with NNN == len(history), epochs are 1..NNN,
    and the model's optimizer has taken exactly NNN epochs of steps (weights match history);
  - run.epoch_latents has one snapshot for each of epochs 1..NNN, all of the same test digits;
  - read_status() says 'interrupted' (the dead pid is noticed), never 'running';
  - the next --resume keeps the history and the snapshots it found and continues them.

Each run ends with one --resume left to finish, which must reach the last epoch.
Prints the trials, where the kills landed, and the failures (which must be 0).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from vae import io  # noqa: E402

SUBSET, EPOCHS, BATCH = 2000, 4, 128
STEPS_PER_EPOCH = -(-SUBSET // BATCH)
# Where a kill is aimed. Each waits for an event in the run directory, then kills after a random delay.
PHASES = (
    "start-up", "loading data", "mid-epoch", "snapshot write", "model write", "history write", "after commit",
    "final writes",
)  # fmt: skip


def start(run_dir: Path, resume: bool) -> subprocess.Popen:
    cmd = [sys.executable, str(ROOT / "train.py"), "--out", str(run_dir), "--epochs", str(EPOCHS)]
    cmd += ["--resume"] if resume else ["--subset", str(SUBSET), "--batch-size", str(BATCH)]
    return subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def temp_files(run_dir: Path) -> list[str]:
    """Half-written files in the run and its latents/ and samples/ folders, as paths relative to the run."""
    found = []
    for folder in (run_dir, run_dir / "latents", run_dir / "samples"):
        try:
            found += [str(p.relative_to(run_dir)) for p in folder.iterdir() if ".tmp" in p.name]
        except FileNotFoundError:
            continue
    return found


def wait_for(proc: subprocess.Popen, event, timeout: float = 300) -> bool:
    """Poll every 2 ms until event() is true; False if the process ended first."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if event():
            return True
        if proc.poll() is not None:
            return False
        time.sleep(0.002)
    return False


def aim(proc: subprocess.Popen, run_dir: Path, phase: str, rng: random.Random) -> bool:
    """Wait until the process is in ``phase``; False if it finished before getting there.

    Events count only when they are this process's own: its pid in status.json, temp files
    that were not left behind by an earlier kill.
    """
    history = run_dir / "history.json"
    mtime = history.stat().st_mtime_ns if history.exists() else 0
    stale = set(temp_files(run_dir))

    def status() -> dict:
        found = io.read_json(run_dir / "status.json", default={})
        return found if found.get("pid") == proc.pid else {}

    def writing(prefix: str):
        return lambda: any(n.startswith(prefix) and n not in stale for n in temp_files(run_dir))

    if phase == "start-up":  # importing TensorFlow, before anything is written
        time.sleep(rng.uniform(0.5, 8))
        return proc.poll() is None
    if phase == "loading data":
        return wait_for(proc, lambda: "loading" in str(status().get("message")))
    if phase == "mid-epoch":
        ok = wait_for(proc, lambda: status().get("progress", 0) > 0)
        time.sleep(rng.uniform(0, 1.5))
        return ok and proc.poll() is None
    if phase == "snapshot write":
        return wait_for(proc, writing("latents/.epoch_"))
    if phase == "model write":
        return wait_for(proc, writing(".model_epoch"))
    if phase == "history write":
        return wait_for(proc, writing(".history"))
    if phase == "after commit":  # deleting the old model, writing status.json
        ok = wait_for(proc, lambda: history.exists() and history.stat().st_mtime_ns != mtime)
        time.sleep(rng.uniform(0, 0.3))
        return ok and proc.poll() is None
    if phase == "final writes":
        return wait_for(proc, writing(".latents"))
    raise ValueError(phase)


def fingerprints(run: io.Run) -> list[bytes]:
    """One digest per epoch snapshot: a resumed run must not rewrite the snapshots it found."""
    return [hashlib.sha256(s["mean"].tobytes() + s["log_var"].tobytes()).digest() for s in run.epoch_latents]


def check(run_dir: Path, before: list[dict], before_snapshots: list[bytes]) -> tuple[list[str], int]:
    """The invariants after a kill; returns (failures, epochs committed)."""
    failures = []
    state = io.read_status(run_dir).get("state")
    if state == "running":
        failures.append("status still says running after the process died")
    if not (run_dir / "history.json").exists():
        try:
            io.load_run(run_dir)
            failures.append("load_run succeeded without history.json")
        except io.RunError:
            pass
        if before:
            failures.append(f"history.json vanished (had {len(before)} epochs)")
        return failures, 0
    try:
        run = io.load_run(run_dir)
    except io.RunError as err:
        return [f"load_run failed: {err}"], 0
    n = len(run.history)
    if run.model_file != f"model_epoch_{n:03d}.keras":
        failures.append(f"history has {n} epochs but names {run.model_file}")
    if [e["epoch"] for e in run.history] != list(range(1, n + 1)):
        failures.append(f"epochs are {[e['epoch'] for e in run.history]}")
    if run.history[: len(before)] != before:
        failures.append("a resumed run rewrote the history it started from")
    snapshots = run.epoch_latents
    if [s["epoch"] for s in snapshots] != list(range(1, n + 1)):
        failures.append(f"{n} epochs committed but snapshots of epochs {[s['epoch'] for s in snapshots]}")
    elif any(len(s["index"]) != len(snapshots[0]["index"]) or (s["index"] != snapshots[0]["index"]).any()
             for s in snapshots):  # fmt: skip
        failures.append("the snapshots are not all of the same test digits")
    if fingerprints(run)[: len(before_snapshots)] != before_snapshots:
        failures.append("a resumed run rewrote the snapshots it started from")
    steps = int(run.model.optimizer.iterations.numpy())
    if steps != n * STEPS_PER_EPOCH:
        failures.append(f"model took {steps} optimizer steps, history says {n} epochs of {STEPS_PER_EPOCH}")
    if state not in ("interrupted", "finished"):
        failures.append(f"status says {state!r} after a kill")
    return failures, n


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=20, help="kills to attempt")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--runs", type=int, default=4, help="run directories the kills are spread over")
    args = parser.parse_args()
    if "VAE_DATA_DIR" not in os.environ:
        sys.exit("set VAE_DATA_DIR to the folder with MNIST's IDX files")
    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="kill_training_"))
    runs = [work / f"run{i}" for i in range(args.runs)]
    history = {run: [] for run in runs}  # what each run had committed after its last check
    snaps = {run: [] for run in runs}  # and the fingerprints of its epoch snapshots
    landed, failures, loadable, not_killed = Counter(), [], 0, 0
    t_start = time.time()

    for trial in range(args.trials):
        run_dir = runs[trial % len(runs)]
        phase = PHASES[trial % len(PHASES)] if trial < 2 * len(PHASES) else rng.choice(PHASES)
        resume = bool(history[run_dir])
        if resume and len(history[run_dir]) == EPOCHS:  # finished: start this run over
            shutil.rmtree(run_dir)
            history[run_dir], snaps[run_dir], resume = [], [], False
        proc = start(run_dir, resume)
        t0 = time.time()
        stale = set(temp_files(run_dir))
        if aim(proc, run_dir, phase, rng):
            writing = set(temp_files(run_dir)) - stale
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            landed[phase + (" (mid-write)" if writing else "")] += 1
        else:
            proc.wait()
            not_killed += 1
            if proc.returncode != 0:
                failures.append(f"trial {trial}: train.py exited {proc.returncode}: {proc.stderr.read()[-500:]}")
        trial_failures, n = check(run_dir, history[run_dir], snaps[run_dir])
        loadable += n > 0
        failures += [f"trial {trial} ({phase}, {'resume' if resume else 'fresh'}): {f}" for f in trial_failures]
        run = io.load_run(run_dir, with_model=False) if n else None
        history[run_dir], snaps[run_dir] = (run.history, fingerprints(run)) if run else ([], [])
        print(
            f"trial {trial:2d}  {'resume' if resume else 'fresh ':6s}  aimed at {phase:14s}  after {time.time() - t0:5.1f}s"
            f"  epochs committed {n}  state {io.read_status(run_dir).get('state')}  {'FAIL' if trial_failures else 'ok'}",
            flush=True,
        )

    # Every run must still be finishable with --resume (or a fresh start when nothing was committed).
    finished = 0
    for run_dir in runs:
        proc = start(run_dir, resume=bool(history[run_dir]))
        _, err = proc.communicate()
        trial_failures, n = check(run_dir, history[run_dir], snaps[run_dir])
        if proc.returncode != 0 or n != EPOCHS or io.read_status(run_dir).get("state") != "finished":
            trial_failures.append(f"finishing run exited {proc.returncode} at {n} epochs: {err[-500:]}")
        finished += not trial_failures
        failures += [f"finishing {run_dir.name}: {f}" for f in trial_failures]

    print(f"\ntrials: {args.trials}  killed: {args.trials - not_killed}  finished before the kill: {not_killed}")
    print("kills landed in: " + ", ".join(f"{phase} {count}" for phase, count in sorted(landed.items())))
    print(f"loadable after the kill: {loadable}  (the rest had no committed epoch yet and raised RunError)")
    print(f"runs finished by a final --resume: {finished}/{len(runs)}")
    print(f"stale temp files left by kills (never read): {sum(len(temp_files(run)) for run in runs)}")
    print(f"consistency failures: {len(failures)}")
    for failure in failures:
        print("  " + failure)
    print(f"total time {time.time() - t_start:.0f}s")
    shutil.rmtree(work, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
