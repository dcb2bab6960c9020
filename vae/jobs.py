"""One background training job per runs/ folder, shared by every session and server process.

The app never trains in its own process: ``start`` runs train.py as a subprocess
(an argument list, no shell) writing a new run under runs/. Everything about the job
lives on disk, so any session, a reloaded page or a restarted server finds it again:

    runs/.job.json    which run the latest job writes, its pid, the pid's creation time, settings
    runs/.job.lock    held (filelock: an OS lock on every platform) while deciding whether a job may start
    runs/<run>/status.json, train.log   written by train.py and by its output
    runs/.standby.json, runs/.standby/  a train.py started ahead, waiting for the next job (vae.standby)

``prepare`` (the training page, while no job runs) starts a train.py that imports TensorFlow and waits;
``start`` hands it the job when it can, else starts train.py at the click as before.

Two sessions (threads) or two servers (processes) pressing Train at the same moment
both take the lock in turn; the second sees the first's live pid and is refused. The
limits are checked here, not only in the widgets, since any caller could pass anything.
Nothing here is POSIX-only (vae.process checks and stops processes, filelock locks): the app
imports this module on Windows and macOS too.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import platform
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock

from vae import standby
from vae.io import atomic_write_json, read_json, read_status
from vae.limits import (
    FULL_DATA_RETRAIN,
    QUICK_RETRAIN,
    RETRAIN_EPOCHS,
    RETRAIN_KL_WEIGHT,
    RETRAIN_LABEL_WEIGHT,
    RETRAIN_SUBSET,
    STANDBY_IDLE_SECONDS,
)
from vae.messages import Message, UserError
from vae.process import process_created, terminate, trainer_alive

TRAIN_SCRIPT = Path(__file__).resolve().parents[1] / "train.py"
JOB_FILE, LOCK_FILE = ".job.json", ".job.lock"

# XLA's compiled training and test steps, kept between jobs (TensorFlow's persistent compilation cache):
# a retrain with the same model and batch as an earlier one, whatever its kl_weight (a variable in the
# step), skips the compiling (benchmarks/retrain_pause.py --runs-dir, run twice).
# One folder per CPU kind: an entry is machine code for the CPU that compiled it, which XLA loads on another
# CPU with a warning only, and a runs/ folder may move to another machine.
XLA_CACHE = ".xla-cache"  # under runs/; a leading dot keeps it out of the run listing

_children: dict[int, subprocess.Popen] = {}  # processes this one started: polled so they never linger as zombies
_prepared: dict[Path, int] = {}  # the waiting train.py this process started last: its runs/ folder and pid


class JobError(UserError):
    """A job that may not start (limits, another job running); the message is for the user."""


@dataclass
class Job:
    run_dir: Path
    pid: int
    settings: dict  # kl_weight, epochs, subset as started
    started: float
    status: dict  # status.json of the run, 'running' already checked against the pid

    @property
    def name(self) -> str:
        return self.run_dir.name

    @property
    def running(self) -> bool:
        return self.status.get("state") in ("starting", "running")

    @property
    def fraction_done(self) -> float:
        """Epochs completed plus the current epoch's share, over all epochs: 0..1."""
        epochs = self.status.get("epochs") or self.settings.get("epochs") or 1
        done = (self.status.get("epoch") or 0) + (self.status.get("progress") or 0.0)
        return min(max(done / epochs, 0.0), 1.0)


def check_settings(kl_weight: float, epochs: int, subset: int | None, labels: bool = True) -> dict:
    """The job's settings, validated; JobError says which is out of range."""
    if not isinstance(labels, bool):  # a number or a string from a page would turn the head on by truthiness
        raise JobError("jobs.invalid_settings", "invalid training settings: {error}", error="labels: true or false")
    try:
        kl_weight, epochs = float(kl_weight), int(epochs)
        subset = None if subset is None else int(subset)
    except (TypeError, ValueError) as err:
        raise JobError("jobs.invalid_settings", "invalid training settings: {error}", error=str(err)) from None
    if kl_weight not in RETRAIN_KL_WEIGHT:  # NaN and infinities compare False: refused too
        low, high = RETRAIN_KL_WEIGHT.low, RETRAIN_KL_WEIGHT.high
        raise JobError(
            "jobs.kl_range", "kl_weight must be between {low:g} and {high:g}, not {value:g}", low=low, high=high,
            value=kl_weight,
        )  # fmt: skip
    if epochs not in RETRAIN_EPOCHS:
        raise JobError(
            "jobs.epochs_range", "epochs must be between {low:g} and {high:g}, not {value}", low=RETRAIN_EPOCHS.low,
            high=RETRAIN_EPOCHS.high, value=epochs,
        )  # fmt: skip
    if subset is not None and subset not in RETRAIN_SUBSET:
        raise JobError(
            "jobs.subset_range", "the training subset must be between {low:g} and {high:g} images, not {value}",
            low=RETRAIN_SUBSET.low, high=RETRAIN_SUBSET.high, value=subset,
        )  # fmt: skip
    return {"kl_weight": kl_weight, "epochs": epochs, "subset": subset, "labels": labels}


@contextmanager
def _locked(runs_dir: Path):
    runs_dir.mkdir(parents=True, exist_ok=True)
    with FileLock(runs_dir / LOCK_FILE):  # an OS lock: released by the kernel too if this process dies
        yield


def current(runs_dir: str | Path) -> Job | None:
    """The latest job started in runs_dir (running or not), or None if there never was one."""
    for pid, child in list(_children.items()):
        if child.poll() is not None:
            del _children[pid]
    runs_dir = Path(runs_dir)
    record = read_json(runs_dir / JOB_FILE, default={})
    try:
        run_dir, pid = runs_dir / Path(record["run"]).name, int(record["pid"])
    except (KeyError, TypeError, ValueError):
        return None
    status = read_status(run_dir)
    alive = trainer_alive(pid, record.get("created"))
    if alive and not status.get("state"):  # no status.json yet: importing TensorFlow
        status = {"state": "starting", "message": Message("status.starting", "starting train.py")}
    elif not alive and not status.get("state"):  # it died while starting up, before it could handle SIGTERM
        if record.get("cancelled"):
            status = {
                "state": "cancelled",
                "message": Message("status.cancelled_early", "cancelled before training started"),
            }
        else:
            status = {
                "state": "failed",
                "message": Message(
                    "status.no_status",
                    "train.py exited before writing status.json (see {log})",
                    log=f"{run_dir}/train.log",
                ),
            }
    elif status.get("state") == "interrupted" and record.get("cancelled"):  # terminated outright (Windows)
        said = Message("status.cancelled", "cancelled after epoch {epoch}", epoch=status.get("epoch") or 0)
        status |= {"state": "cancelled", "message": said}
    return Job(run_dir, pid, record.get("settings", {}), record.get("started", 0.0), status)


def new_run_name(settings: dict, runs_dir: Path | None = None) -> str:
    """A name a student can read: kl weight, epochs, data ("kl4-e10-all"), "-nolabels" for a VAE trained without
    the labels; "-2", "-3" ... only when a run of that name exists already."""
    data = f"n{settings['subset']}" if settings["subset"] else "all"
    base = f"kl{settings['kl_weight']:g}-e{settings['epochs']}-{data}" + (
        "" if settings.get("labels", True) else "-nolabels"
    )
    if runs_dir is None or not (runs_dir / base).exists():
        return base
    return next(f"{base}-{n}" for n in itertools.count(2) if not (runs_dir / f"{base}-{n}").exists())


def start(
    runs_dir: str | Path,
    kl_weight: float,
    epochs: int,
    subset: int | None = None,
    data_dir: str | None = None,
    script: Path = TRAIN_SCRIPT,
    labels: bool = True,
) -> Job:
    """Start train.py writing a new run in runs_dir. JobError if another job runs or a setting is out of range.
    labels: train the label head as the shipped runs do (vae.limits.RETRAIN_LABEL_WEIGHT), or a plain VAE."""
    settings = check_settings(kl_weight, epochs, subset, labels)
    runs_dir = Path(runs_dir)
    with _locked(runs_dir):
        job = current(runs_dir)
        if job is not None and job.running:
            raise JobError(
                "jobs.busy", "A training job is already running ({name}); wait for it or cancel it.", name=job.name
            )
        name = new_run_name(settings, runs_dir)
        run_dir = runs_dir / name
        run_dir.mkdir()
        argv = [sys.executable, str(script), "--out", str(run_dir), "--epochs", str(settings["epochs"])]
        argv += ["--kl-weight", repr(settings["kl_weight"])]
        argv += ["--label-weight", repr(RETRAIN_LABEL_WEIGHT if settings["labels"] else 0.0)]
        argv += ["--subset", str(settings["subset"]), *quick_args()] if settings["subset"] else full_data_args()
        if data_dir:
            argv += ["--data-dir", str(data_dir)]
        log, env = run_dir / "train.log", job_environment(runs_dir)
        waiting = standby.claim(runs_dir, script, env)
        if waiting is not None:  # the job is that process from now on: recorded before it is told
            log.touch()
            pid, created = int(waiting["pid"]), waiting["created"]
        else:
            child = _launch(argv, script, log, env)
            pid, created = child.pid, process_created(child.pid)
        record = {"run": name, "pid": pid, "created": created, "settings": settings}
        record |= {"started": time.time(), "argv": argv, "standby": waiting is not None}
        atomic_write_json(runs_dir / JOB_FILE, record)
        if waiting is not None:
            standby.send(waiting, argv[2:], log)
    return current(runs_dir)


def prepare(runs_dir: str | Path, script: Path = TRAIN_SCRIPT) -> bool:
    """Have a train.py waiting for the next job, TensorFlow imported (vae.standby); True if one waits now.

    Not while a job runs: importing TensorFlow would take CPU from it; not with $VAE_STANDBY=0 (a server
    short of memory). The training page calls this every few seconds, so the common case (one waits
    already) takes no lock. A process keeps one waiting at most: preparing for another runs/ folder stops
    the one it started for the last (a server serves one folder; a test suite makes many)."""
    runs_dir = Path(runs_dir)
    if os.environ.get(standby.SWITCH_ENV, "1") == "0":
        return False
    if standby.waiting(runs_dir) is not None:
        return True
    for other, pid in list(_prepared.items()):
        if other != runs_dir and other.is_dir():  # a folder that is gone: its waiting train.py leaves by itself
            with _locked(other):
                standby.dismiss(other, pid)
        del _prepared[other]
    with _locked(runs_dir):
        job = current(runs_dir)
        if job is not None and job.running:
            return False
        if standby.waiting(runs_dir) is None:
            env = job_environment(runs_dir)
            order, log = standby.new_order(runs_dir)
            argv = [sys.executable, str(script), *standby.arguments(order, runs_dir / LOCK_FILE, STANDBY_IDLE_SECONDS)]
            child = _launch(argv, script, log, env)
            standby.record(runs_dir, child.pid, order, script, env)
            _prepared[runs_dir] = child.pid
    return True


def _launch(argv: list[str], script: Path, log: Path, env: dict[str, str]) -> subprocess.Popen:
    """Start train.py (a job, or one waiting for a job) writing its output to log."""
    with open(log, "wb") as out:
        # A session (POSIX) or process group (Windows) of its own: the job survives a restart of the
        # server and its Ctrl-C, and the app reattaches to it through .job.json.
        child = subprocess.Popen(
            argv, cwd=script.parent, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True, creationflags=getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0), env=env,
        )  # fmt: skip
    _children[child.pid] = child
    return child


def full_data_args() -> list[str]:
    """train.py's flags for a retrain on all images (vae.limits.FULL_DATA_RETRAIN)."""
    return ["--batch-size", str(FULL_DATA_RETRAIN.batch_size), "--lr", repr(FULL_DATA_RETRAIN.lr)]


def quick_args() -> list[str]:
    """train.py's flags for a retrain on a subset (vae.limits.QUICK_RETRAIN): a small subset at batch 250
    would be few steps."""
    return ["--batch-size", str(QUICK_RETRAIN.batch_size), "--lr", repr(QUICK_RETRAIN.lr)]


def job_environment(runs_dir: Path) -> dict[str, str]:
    """The server's environment plus XLA's persistent cache under runs_dir (other XLA flags kept)."""
    flags = os.environ.get("TF_XLA_FLAGS", "")
    if "tf_xla_persistent_cache_directory" not in flags:
        flags = f"{flags} --tf_xla_persistent_cache_directory={xla_cache_dir(runs_dir)}".strip()
    return os.environ | {"TF_XLA_FLAGS": flags}


def xla_cache_dir(runs_dir: Path) -> Path:
    """XLA's persistent cache in runs_dir for this machine's kind of CPU (model and feature flags)."""
    cpuinfo = Path("/proc/cpuinfo")  # Linux; elsewhere the platform's own, coarser, description
    described = cpuinfo.read_text(errors="replace") if cpuinfo.is_file() else platform.processor()
    kinds = {line for line in described.splitlines() if line.startswith(("model name", "flags", "Features"))}
    key = hashlib.sha256("\n".join([platform.machine(), *(sorted(kinds) or [described])]).encode()).hexdigest()[:12]
    return runs_dir / XLA_CACHE / key


def cancel(runs_dir: str | Path) -> bool:
    """Stop the running job; False if none runs.

    psutil's terminate is SIGTERM on POSIX (train.py finishes its batch, keeps the last completed
    epoch and says 'cancelled') and TerminateProcess on Windows (stopped outright: the last
    committed epoch is kept all the same, and current() reads the job as cancelled)."""
    runs_dir = Path(runs_dir)
    with _locked(runs_dir):
        job = current(runs_dir)
        record = read_json(runs_dir / JOB_FILE, default={})
        if job is None or not job.running or not trainer_alive(job.pid, record.get("created")):
            return False
        atomic_write_json(runs_dir / JOB_FILE, record | {"cancelled": time.time()})
        terminate(job.pid)
    return True
