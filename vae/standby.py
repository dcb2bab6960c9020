"""A train.py started ahead of the Train click, waiting for its job with Python and TensorFlow imported.

    runs/.standby.json           the waiting process: pid, creation time, its order file, what it runs
    runs/.standby/<token>.json   its order: the job's train.py arguments and log file (vae.jobs.start)
    runs/.standby/<token>.log    what it printed while waiting

vae.jobs.prepare starts one (``train.py --standby ORDER LOCK IDLE SERVER``) while no job runs; vae.jobs.start
hands it the next job instead of starting train.py afresh, which skips the interpreter's and TensorFlow's
start-up (benchmarks/retrain_pause.py, with and without --cold). The job is then that same process:
.job.json records its pid and creation time as for any job, so cancelling, a crash and a server restart
read exactly as for a train.py started at the click. A waiting process is handed a job only if the code
and the environment it started with are still the server's (not after a pull, nor a restart with other
settings); otherwise the job starts afresh and the stale process is stopped.

A waiting process leaves by itself when nobody needs it: after IDLE seconds without a job, when the
server that started it has ended (a restarted server starts its own; a job already handed over is no
longer waiting and runs on), when runs/ is gone, or when .standby.json no longer names it (replaced, or
claimed by a start that died before writing the order). It leaves under the jobs' lock, so a start never
hands a job to a process on its way out.
Nothing here imports TensorFlow: the server and the waiting process's own loop use it alike.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import sys
import time
from collections.abc import Callable
from pathlib import Path

from filelock import FileLock

from vae.io import atomic_write_json, read_json
from vae.process import CREATED_TOLERANCE, process_created, terminate, trainer_alive

STANDBY_FILE, ORDER_DIR = ".standby.json", ".standby"  # under runs/; leading dots keep them out of the listing
FLAG = "--standby"  # train.py's first argument for a waiting process
SWITCH_ENV = "VAE_STANDBY"  # "0": vae.jobs.prepare starts none (a server short of memory)
POLL_SECONDS = 0.05  # a waiting process looks for its order this often: the job waits at most this long
CHECK_SECONDS = 2.0  # ... and checks this often whether it is still wanted
# What steers a job besides its arguments: a waiting process that started under other values runs stale settings.
ENVIRONMENT_PREFIXES = ("VAE_", "TF_", "XLA_", "KERAS_", "PYTHON", "OMP_", "MKL_", "CUDA_")


def fingerprint(script: Path, env: dict[str, str]) -> str:
    """What a job started now would run: train.py and the vae package's sources beside it (path, size,
    modification time) and the environment variables that steer them."""
    digest = hashlib.sha256()
    for path in [script, *sorted((script.parent / "vae").rglob("*.py"))]:
        stat = path.stat()
        digest.update(f"{path}:{stat.st_size}:{stat.st_mtime_ns}\n".encode())
    for key in sorted(env):
        if key.startswith(ENVIRONMENT_PREFIXES):
            digest.update(f"{key}={env[key]}\n".encode())
    return digest.hexdigest()[:20]


# ------------------------------------------------------------------ the server's side (vae.jobs, under its lock)


def new_order(runs_dir: Path) -> tuple[Path, Path]:
    """Where a new waiting process will find its order, and its log while it waits."""
    (runs_dir / ORDER_DIR).mkdir(parents=True, exist_ok=True)
    token = secrets.token_hex(6)
    return runs_dir / ORDER_DIR / f"{token}.json", runs_dir / ORDER_DIR / f"{token}.log"


def arguments(order: Path, lock: Path, idle_seconds: float) -> list[str]:
    """train.py's arguments for a waiting process started by this one (the server it waits for)."""
    return [FLAG, str(order), str(lock), f"{idle_seconds:g}", f"{os.getpid()}:{process_created()!r}"]


def record(runs_dir: Path, pid: int, order: Path, script: Path, env: dict[str, str]) -> None:
    """Name the process just started as runs_dir's waiting one (replacing any earlier, which then leaves)."""
    entry = {"pid": pid, "created": process_created(pid), "order": str(order), "started": time.time()}
    atomic_write_json(runs_dir / STANDBY_FILE, entry | {"fingerprint": fingerprint(script, env)})


def waiting(runs_dir: Path) -> dict | None:
    """The record of runs_dir's waiting process if it is alive, else None."""
    entry = read_json(runs_dir / STANDBY_FILE, default={})
    return entry if entry and trainer_alive(entry.get("pid"), entry.get("created")) else None


def claim(runs_dir: Path, script: Path, env: dict[str, str]) -> dict | None:
    """Take runs_dir's waiting process for a job: its record if it is alive and runs what a fresh train.py
    would, else None (a stale one is stopped). Either way no other start can take it any more."""
    entry = waiting(runs_dir)
    (runs_dir / STANDBY_FILE).unlink(missing_ok=True)
    if entry is not None and entry.get("fingerprint") != fingerprint(script, env):
        terminate(int(entry["pid"]))
        return None
    return entry


def send(entry: dict, train_args: list[str], log: Path) -> None:
    """Hand a claimed process its job: train.py's arguments (without the script) and the job's log."""
    atomic_write_json(Path(entry["order"]), {"argv": train_args, "log": str(log)})


def dismiss(runs_dir: Path, pid: int | None = None) -> None:
    """Stop runs_dir's waiting process, if any (and if it is pid, when given)."""
    entry = waiting(runs_dir)
    if entry is None or pid not in (None, entry["pid"]):
        return
    (runs_dir / STANDBY_FILE).unlink(missing_ok=True)
    terminate(int(entry["pid"]))


# ------------------------------------------------------------------ the waiting process's side (train.py --standby)


def wait_for_order(
    order: str, lock: str, idle_seconds: str, server: str, warm_up: Callable[[], object] | None = None
) -> list[str]:
    """Run warm_up, then wait for the order; return the job's train.py arguments, with stdout and stderr
    going to the job's log from then on. Exits the process instead when it is no longer wanted.
    The arguments are arguments()'s, as strings: server is the starting process's "pid:creation time"."""
    order, lock, idle = Path(order), Path(lock), float(idle_seconds)
    server_pid, server_created = int(server.split(":")[0]), float(server.split(":")[1])
    if warm_up is not None:
        warm_up()
    runs_dir = order.parent.parent
    started = last_check = time.monotonic()
    _mark_ready(runs_dir, lock)
    while True:
        if order.exists():
            return _take(order)
        now = time.monotonic()
        if now - last_check >= CHECK_SECONDS:
            last_check = now
            unwanted = now - started > idle or _named(runs_dir) is None
            unwanted = unwanted or not _same_process(server_pid, server_created)
            if unwanted and _leave(order, lock):
                sys.exit(0)
        time.sleep(POLL_SECONDS)


def _same_process(pid: int, created: float) -> bool:
    now = process_created(pid)
    return now is not None and abs(now - created) <= CREATED_TOLERANCE


def _named(runs_dir: Path) -> dict | None:
    """This process's record, if runs_dir still names it as the waiting one."""
    entry = read_json(runs_dir / STANDBY_FILE, default={})
    return entry if entry.get("pid") == os.getpid() else None


def _mark_ready(runs_dir: Path, lock: Path) -> None:
    """Say in the record that the warm-up is done (benchmarks wait for it; a job may be handed over before)."""
    try:
        with FileLock(lock):
            entry = _named(runs_dir)
            if entry is not None:
                atomic_write_json(runs_dir / STANDBY_FILE, entry | {"ready": time.time()})
    except OSError:  # runs/ is gone: the loop leaves at its first check
        pass


def _leave(order: Path, lock: Path) -> bool:
    """Give up the record under the jobs' lock unless an order came meanwhile; True if this process may exit."""
    try:
        with FileLock(lock):
            if order.exists():
                return False
            if _named(order.parent.parent) is not None:
                (order.parent.parent / STANDBY_FILE).unlink(missing_ok=True)
    except OSError:  # runs/ is gone: nobody will hand a job to this process
        pass
    order.with_suffix(".log").unlink(missing_ok=True)
    return True


def _take(order: Path) -> list[str]:
    job = read_json(order)
    order.unlink(missing_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    with open(job["log"], "ab") as log:  # the job's train.log, as if train.py had been started with it
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
    order.with_suffix(".log").unlink(missing_ok=True)
    return [str(arg) for arg in job["argv"]]
