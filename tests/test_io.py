import json
import os
import subprocess
import sys
import zipfile

import pytest

from vae import io
from vae.config import VAEConfig
from vae.model import build_vae
from vae.process import process_created


def entry(epoch: int) -> dict:
    return {key: float(epoch) for key in io.HISTORY_KEYS}


@pytest.fixture
def small_run(tmp_path):
    run_dir = tmp_path / "run"
    config = VAEConfig(hidden=(16,))
    io.atomic_write_json(run_dir / "config.json", config.to_dict())
    model = build_vae(config)
    io.commit_epoch(run_dir, model, [entry(1)])
    io.commit_epoch(run_dir, model, [entry(1), entry(2)])
    return run_dir


def test_commit_keeps_only_the_committed_model(small_run):
    assert sorted(p.name for p in small_run.glob("*.keras")) == ["model_epoch_002.keras"]
    run = io.load_run(small_run)
    assert run.model_file == "model_epoch_002.keras" and run.epochs_done == 2 and run.model is not None


def test_atomic_write_leaves_the_old_file_when_writing_fails(tmp_path, monkeypatch):
    path = tmp_path / "status.json"
    io.atomic_write_json(path, {"state": "running"})

    def full_disk(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(OSError):
        io.atomic_write_json(path, {"state": "finished"})
    assert json.loads(path.read_text()) == {"state": "running"}
    assert [p.name for p in tmp_path.iterdir()] == ["status.json"]  # no temp file left behind


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda d: (d / "config.json").write_text("{not json"), "config.json is not valid JSON"),
        (lambda d: (d / "config.json").write_text('{"latent_dim": 2, "colour": 1}'), "unknown config keys"),
        (lambda d: (d / "history.json").write_text("[]"), "history.json lacks"),
        (lambda d: (d / "history.json").unlink(), "history.json is missing"),
        (lambda d: (d / "model_epoch_002.keras").write_bytes(b"PK\x03\x04broken"), "damaged"),
        (lambda d: not_a_model(d / "model_epoch_002.keras"), "cannot be loaded"),
        (lambda d: (d / "model_epoch_002.keras").unlink(), "is missing"),
        (lambda d: (d / "latents.npz").write_bytes(b"garbage"), "latents.npz is unreadable"),
    ],
)
def test_broken_runs_raise_run_error_naming_the_file(small_run, damage, reason):
    damage(small_run)
    with pytest.raises(io.RunError, match=reason):
        io.load_run(small_run)


def not_a_model(path):
    """A whole zip archive, but not one Keras wrote."""
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "hello")


def test_the_picker_and_load_run_give_the_same_reason(small_run):
    (small_run / "model_epoch_002.keras").write_bytes(b"PK\x03\x04broken")
    problem = io.inspect_run(small_run).problem
    with pytest.raises(io.RunError) as err:
        io.load_run(small_run)
    assert str(err.value) == problem == "model_epoch_002.keras is damaged (not a complete .keras archive)"


def test_history_cannot_point_outside_the_run(small_run):
    io.atomic_write_json(small_run / "history.json", {"model_file": "../evil.keras", "epochs": []})
    with pytest.raises(io.RunError, match="outside the run"):
        io.load_run(small_run)


def test_incompatible_version_is_refused(small_run):
    config = json.loads((small_run / "config.json").read_text()) | {"version": 99}
    (small_run / "config.json").write_text(json.dumps(config))
    with pytest.raises(io.RunError, match="format version 99"):
        io.load_run(small_run)


def test_running_status_with_a_dead_pid_reads_as_interrupted(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    io.write_status(tmp_path, state="running", pid=dead.pid)
    status = io.read_status(tmp_path)
    assert status["state"] == "interrupted" and str(dead.pid) in status["message"]
    io.write_status(tmp_path, state="running", pid=os.getpid())  # pytest is alive but is not train.py
    assert io.read_status(tmp_path)["state"] == "interrupted"


def test_a_recycled_pid_is_not_taken_for_the_trainer_that_had_it(tmp_path):
    # a live process whose command line names train.py, as a new process given the old pid could
    trainer = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", "train.py"])
    try:
        created = process_created(trainer.pid)
        io.write_status(tmp_path, state="running", pid=trainer.pid, process_created=created)
        assert io.read_status(tmp_path)["state"] == "running"
        io.write_status(tmp_path, process_created=created - 600.0)  # the recorded trainer started earlier
        assert io.read_status(tmp_path)["state"] == "interrupted"
    finally:
        trainer.kill()
        trainer.wait()
    assert process_created(trainer.pid) is None


def test_a_watched_run_shows_only_committed_epochs_and_their_sample_sheets(small_run, tmp_path):
    assert io.live_history(tmp_path / "not-started") == [] and io.sample_sheets(tmp_path / "not-started") == []
    for epoch in (1, 2, 3):  # epoch 3's sheet is written, its history not yet committed
        io.atomic_write_bytes(small_run / "samples" / f"epoch_{epoch:03d}.png", b"png")
    assert [e["epoch"] for e in io.live_history(small_run)] == [1.0, 2.0]
    sheets = io.load_run(small_run, with_model=False).samples
    assert [p.name for p in sheets] == ["epoch_001.png", "epoch_002.png"]
