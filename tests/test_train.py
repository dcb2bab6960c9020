"""train.py as a user runs it: a fresh process on a 2,000-image subset of real MNIST."""

import json
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
from PIL import Image

from tests.helpers import ROOT, run_train
from vae import io, jobs
from vae.limits import FULL_DATA_RETRAIN


def test_a_run_writes_every_artifact_and_learns(tiny_run):
    run = io.load_run(tiny_run)
    assert run.config.subset == 2000 and run.epochs_done == 2
    assert [e["epoch"] for e in run.history] == [1, 2]
    assert set(io.HISTORY_KEYS) <= set(run.history[0])
    assert run.history[1]["loss"] < run.history[0]["loss"]
    assert run.history[1]["val_loss"] < run.history[0]["val_loss"]
    for e in run.history:  # the loss is reported as its parts
        assert abs(e["loss"] - (e["reconstruction"] + run.config.kl_weight * e["kl"])) < 0.05 * e["loss"]
    for epoch in (1, 2):
        sheet = Image.open(tiny_run / "samples" / f"epoch_{epoch:03d}.png")
        assert sheet.size[0] == 10 * 28 * 2  # a 10-wide grid at 2x
    status = io.read_status(tiny_run)
    assert status["state"] == "finished" and status["epoch"] == status["epochs"] == 2
    assert run.latents["mean"].shape == (10_000, 2) and run.latents["labels"].shape == (10_000,)
    # one latent snapshot per epoch, of the same 2,000 test digits, 200 of each
    first, second = run.epoch_latents
    assert (first["epoch"], second["epoch"]) == (1, 2)
    assert first["mean"].shape == first["log_var"].shape == (2_000, 2)
    assert np.bincount(first["labels"]).tolist() == [200] * 10
    np.testing.assert_array_equal(first["index"], second["index"])
    np.testing.assert_array_equal(first["labels"], run.latents["labels"][first["index"]])
    # the last snapshot is the finished model's codes of those digits; the first an earlier model's
    # the last snapshot is the final codes, to float16's precision (vae.snapshots)
    np.testing.assert_allclose(second["mean"], run.latents["mean"][second["index"]], rtol=1e-3, atol=1e-4)
    assert np.abs(first["mean"] - second["mean"]).max() > 0.01
    assert json.loads((tiny_run / "metrics.json").read_text())["test"]["neg_elbo"] > 0
    assert not list(tiny_run.glob(".*tmp*"))  # no temp files left behind


def test_resume_continues_from_the_last_epoch(tiny_run, tmp_path):
    run_dir = tmp_path / "resumed"
    shutil.copytree(tiny_run, run_dir)
    before = io.load_run(run_dir)
    result = run_train("--out", str(run_dir), "--epochs", "3", "--resume")
    assert result.returncode == 0, result.stderr[-3000:]
    after = io.load_run(run_dir)
    assert [e["epoch"] for e in after.history] == [1, 2, 3]
    assert after.history[:2] == before.history
    assert [s["epoch"] for s in after.epoch_latents] == [1, 2, 3]  # the snapshots continue
    for kept, found in zip(before.epoch_latents, after.epoch_latents[:2], strict=True):
        np.testing.assert_array_equal(kept["mean"], found["mean"])
    # optimizer state travelled: Adam's step counter continues instead of restarting at 0
    steps_per_epoch = 2000 // 128 + 1
    assert int(after.model.optimizer.iterations.numpy()) == 3 * steps_per_epoch


def test_refuses_to_overwrite_an_existing_run(tiny_run):
    result = run_train("--out", str(tiny_run), "--epochs", "1")
    assert result.returncode == 2 and "--resume" in result.stderr


def test_sigterm_mid_run_leaves_a_loadable_cancelled_run(mnist_dir, tmp_path):
    run_dir = tmp_path / "cancelled"
    cmd = [sys.executable, str(ROOT / "train.py"), "--subset", "20000", "--epochs", "50", "--out", str(run_dir)]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 240
    while time.time() < deadline and not (run_dir / "history.json").exists():
        time.sleep(0.2)
    assert (run_dir / "history.json").exists(), "no epoch completed in time"
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=60)
    assert proc.returncode == 0, proc.stderr.read()[-3000:]
    status = io.read_status(run_dir)
    assert status["state"] == "cancelled"
    run = io.load_run(run_dir)
    assert 1 <= run.epochs_done < 50 and run.model_file == f"model_epoch_{run.epochs_done:03d}.keras"
    assert run.latents is not None  # the scatter still works for a cancelled run


def test_same_seed_gives_the_same_history(tiny_run, tmp_path):
    again = tmp_path / "again"
    result = run_train("--subset", "2000", "--epochs", "2", "--out", str(again))
    assert result.returncode == 0, result.stderr[-3000:]
    first, second = io.load_run(tiny_run, with_model=False), io.load_run(again, with_model=False)
    for a, b in zip(first.history, second.history, strict=True):
        for key in ("loss", "reconstruction", "kl", "val_loss"):
            np.testing.assert_allclose(a[key], b[key], rtol=1e-4, err_msg=key)


def test_bad_flags_are_refused_before_any_work(tmp_path):
    result = run_train("--out", str(tmp_path / "x"), "--epochs", "0")
    assert result.returncode == 2 and "--epochs" in result.stderr
    assert not (tmp_path / "x").exists()
    for flag, value, said in (("--label-weight", "-1", "label_weight >= 0"), ("--kl-weight", "nan", "finite")):
        result = run_train("--out", str(tmp_path / "y"), flag, value)  # VAEConfig's own checks
        assert result.returncode == 2 and said in result.stderr and "Traceback" not in result.stderr
        assert not (tmp_path / "y").exists()


def test_a_second_trainer_on_the_same_run_dir_is_refused(tmp_path):
    sys.path.insert(0, str(ROOT))
    import train

    held = train.lock_run_dir(tmp_path / "run")
    try:
        assert train.lock_run_dir(tmp_path / "run") is None
    finally:
        held.release()
    assert train.lock_run_dir(tmp_path / "run") is not None  # released with its holder


def test_the_apps_full_data_settings_train_a_loadable_run(mnist_dir, tmp_path):
    # what vae.jobs passes for a retrain on all images (vae.limits.FULL_DATA_RETRAIN), here on a subset
    run_dir = tmp_path / "app-settings"
    result = run_train("--subset", "5000", "--epochs", "2", "--out", str(run_dir), *jobs.full_data_args())
    assert result.returncode == 0, result.stderr[-3000:]
    run = io.load_run(run_dir)
    assert (run.config.batch_size, run.config.lr) == (FULL_DATA_RETRAIN.batch_size, FULL_DATA_RETRAIN.lr)
    assert run.history[1]["val_loss"] < run.history[0]["val_loss"]
    assert io.read_status(run_dir)["state"] == "finished" and (run_dir / "metrics.json").exists()


def test_the_training_options_are_flags_saved_in_the_run(mnist_dir, tmp_path):
    run_dir = tmp_path / "options"
    flags = ("--lr-schedule", "cosine", "--kl-warmup", "1", "--augment", "--code-consistency", "0.5")
    flags += ("--label-weight", "3")
    result = run_train("--subset", "2000", "--epochs", "2", "--out", str(run_dir), *flags)
    assert result.returncode == 0, result.stderr[-3000:]
    run = io.load_run(run_dir)
    config = run.config
    assert (config.lr_schedule, config.kl_warmup_epochs, config.augment, config.code_consistency) == (
        "cosine",
        1,
        True,
        0.5,
    )
    assert run.model.code_consistency == 0.5
    assert config.label_weight == 3.0 and run.model.label_head is not None
    assert all(entry["label"] > 0 for entry in run.history)  # the head's cross-entropy, kept per epoch
    assert run.history[1]["val_loss"] < run.history[0]["val_loss"]
    result = run_train("--out", str(tmp_path / "x"), "--epochs", "2", "--kl-warmup", "3")
    assert result.returncode == 2 and "--kl-warmup" in result.stderr
