"""Processes on every OS (psutil): is a recorded pid still our train.py, and stopping it.

A pid alone is not an identity: once a process ends, the OS may give its number to another.
Whoever starts or is train.py records the process's creation time beside its pid (.job.json,
status.json), and a later reader accepts the pid only if both match and the command line names
train.py. Nothing here is POSIX-only: the app runs this on Windows and macOS too.
"""

from __future__ import annotations

import psutil

# On Linux psutil derives a creation time from the system clock, which NTP may move between two
# readings (its documentation says so); a pid is recycled only after the OS wraps round its pid
# numbers, far later than a few seconds after its first owner started.
CREATED_TOLERANCE = 5.0  # seconds


def process_created(pid: int | None = None) -> float | None:
    """The creation time of ``pid`` (this process by default), as psutil reports it; None once it is gone.
    Recorded beside a pid so that a later reader can tell the process from a new one given the same pid."""
    try:
        return psutil.Process(pid).create_time()
    except psutil.Error:
        return None


def trainer_alive(pid: int | None, created: float | None = None) -> bool:
    """Is ``pid`` a live train.py: not gone, not a zombie, its command line naming train.py, and (when
    ``created`` was recorded) the same process, not a later one that was given the recycled pid?"""
    if not pid:
        return False
    try:
        process = psutil.Process(int(pid))
        if process.status() == psutil.STATUS_ZOMBIE:
            return False
        if created is not None and abs(process.create_time() - float(created)) > CREATED_TOLERANCE:
            return False
        return any("train.py" in part for part in process.cmdline())
    except psutil.AccessDenied:  # live, but another user's (Windows): nothing more can be read about it
        return True
    except (psutil.Error, TypeError, ValueError):
        return False


def terminate(pid: int) -> None:
    """SIGTERM on POSIX (train.py then ends after its batch), TerminateProcess on Windows; no error if it is gone."""
    try:
        psutil.Process(pid).terminate()
    except psutil.NoSuchProcess:  # it ended on its own a moment ago
        pass
