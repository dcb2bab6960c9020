"""train.py when a write fails or the process is killed mid-training: the committed epochs stay intact.

A full disk or a target turned read-only is simulated by making vae.io's writes raise the OSError
the kernel would (ENOSPC, EROFS): as root, chmod cannot make a directory unwritable. Training
runs in this process so the fault can be injected. One SIGKILL after a commit is tested here; kills at
random moments by tests/stress/kill_training.py.
"""

from __future__ import annotations

import errno
import importlib.util
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tests.helpers import ROOT, run_train
from vae import io, snapshots

pytestmark = pytest.mark.slow


@pytest.fixture
def train(mnist_dir):
    """train.py as a module; the SIGINT/SIGTERM handlers it installs are put back afterwards."""
    spec = importlib.util.spec_from_file_location("train_under_test", ROOT / "train.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    yield module
    for sig, handler in handlers.items():
        signal.signal(sig, handler)


def test_disk_full_while_saving_a_model_fails_the_run_and_keeps_the_previous_epoch(train, tmp_path, monkeypatch):
    saved = []
    real_save = io.atomic_save_model

    def save_until_the_disk_fills(model, path):
        if saved:
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        real_save(model, path)
        saved.append(path)

    monkeypatch.setattr(io, "atomic_save_model", save_until_the_disk_fills)
    run_dir = tmp_path / "run"
    assert train.main(["--subset", "1000", "--epochs", "3", "--out", str(run_dir)]) == 1

    status = io.read_status(run_dir)
    assert status["state"] == "failed" and "No space left on device" in status["message"]
    run = io.load_run(run_dir)  # epoch 1 is whole and loadable
    assert run.epochs_done == 1 and run.model_file == "model_epoch_001.keras"
    assert sorted(p.name for p in run_dir.glob("*.keras")) == ["model_epoch_001.keras"]
    # epoch 2's snapshot and sheet were written before its model failed: not counted, as it was not committed
    assert snapshots.snapshot_path(run_dir, 2).exists() and (run_dir / "samples" / "epoch_002.png").exists()
    assert [s["epoch"] for s in run.epoch_latents] == [1] and [p.name for p in run.samples] == ["epoch_001.png"]
    assert not list(run_dir.glob(".*tmp*"))


def test_read_only_target_after_a_commit_exits_nonzero_with_the_message_on_stderr(train, tmp_path, monkeypatch, capsys):
    committed = []
    real_write = io.atomic_write_bytes

    def write_until_read_only(path, data):
        if committed:
            raise OSError(errno.EROFS, "Read-only file system", str(path))
        real_write(path, data)
        if Path(path).name == "history.json":
            committed.append(path)

    monkeypatch.setattr(io, "atomic_write_bytes", write_until_read_only)
    run_dir = tmp_path / "run"
    assert train.main(["--subset", "1000", "--epochs", "3", "--out", str(run_dir)]) == 1

    # status.json itself could not be written, so the reason goes to stderr; once the process is gone,
    # read_status turns the stale 'running' into 'interrupted' (tests/test_io.py, the kill script)
    stderr = capsys.readouterr().err
    assert "Read-only file system" in stderr and "could not record the failure" in stderr
    run = io.load_run(run_dir)
    assert run.epochs_done == 1 and run.model_file == "model_epoch_001.keras"


def test_sigkill_keeps_each_committed_epoch_with_its_snapshot_and_resume_continues_them(mnist_dir, tmp_path):
    run_dir = tmp_path / "killed"
    cmd = [sys.executable, str(ROOT / "train.py"), "--subset", "2000", "--epochs", "50", "--out", str(run_dir)]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 240
    while time.time() < deadline and not (run_dir / "history.json").exists():
        time.sleep(0.05)
    proc.kill()  # SIGKILL: no handler runs, nothing is tidied up
    proc.wait()
    killed = io.load_run(run_dir, with_model=False)
    assert io.read_status(run_dir)["state"] == "interrupted" and 1 <= killed.epochs_done < 50
    assert [s["epoch"] for s in killed.epoch_latents] == list(range(1, killed.epochs_done + 1))

    result = run_train("--out", str(run_dir), "--epochs", str(killed.epochs_done + 1), "--resume")
    assert result.returncode == 0, result.stderr[-3000:]
    resumed = io.load_run(run_dir, with_model=False)
    assert [s["epoch"] for s in resumed.epoch_latents] == list(range(1, killed.epochs_done + 2))
    for kept, found in zip(killed.epoch_latents, resumed.epoch_latents, strict=False):
        np.testing.assert_array_equal(kept["mean"], found["mean"])
        np.testing.assert_array_equal(kept["index"], found["index"])
