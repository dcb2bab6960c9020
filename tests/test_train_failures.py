"""train.py when the disk refuses a write mid-training: status failed with the reason, the last epoch intact.

A full disk or a target turned read-only is simulated by making vae.io's writes raise the OSError
the kernel would (ENOSPC, EROFS): as root, chmod cannot make a directory unwritable. Training
runs in this process so the fault can be injected; SIGKILLs are tested by tests/stress/kill_training.py.
"""

from __future__ import annotations

import errno
import importlib.util
import signal
from pathlib import Path

import pytest

from tests.helpers import ROOT
from vae import io

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
