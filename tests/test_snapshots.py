"""vae.snapshots: the fixed test subset, one file per epoch, and reading back only committed epochs."""

import subprocess
import sys

import numpy as np
import pytest

from tests.helpers import ROOT, make_run
from vae import io, snapshots


def test_the_subset_has_every_digit_equally_and_is_the_same_each_time():
    labels = np.random.default_rng(0).integers(0, 10, 10_000)
    index = snapshots.snapshot_index(labels)
    assert len(index) == 2_000 and np.all(np.diff(index) > 0)
    assert np.bincount(labels[index]).tolist() == [snapshots.PER_CLASS] * 10
    np.testing.assert_array_equal(index, snapshots.snapshot_index(labels.copy()))
    # spread through the whole test set, not its first rows
    assert index.min() < 100 and index.max() > 9_900


def test_a_class_smaller_than_the_quota_is_kept_whole():
    labels = np.array([0] * 5 + [1] * 500)
    assert np.bincount(labels[snapshots.snapshot_index(labels)]).tolist() == [5, 200]


@pytest.fixture
def run_dir(tmp_path):
    return make_run(tmp_path / "run", epochs=2)  # history.json commits 2 epochs


def write(run_dir, epoch, latent_dim=2, n=40):
    mean = np.full((n, latent_dim), float(epoch), np.float32)
    snapshots.write_snapshot(run_dir, epoch, mean, -mean, np.arange(n) % 10, np.arange(n) * 3)


def test_one_entry_per_committed_epoch_an_uncommitted_one_left_out(run_dir):
    for epoch in (1, 2, 3):
        write(run_dir, epoch)
    entries = io.load_run(run_dir, with_model=False).epoch_latents
    assert [e["epoch"] for e in entries] == [1, 2]
    assert set(entries[0]) == {"epoch", "mean", "log_var", "labels", "index"}
    assert entries[1]["mean"].shape == (40, 2) and entries[1]["mean"].dtype == np.float32
    np.testing.assert_array_equal(entries[1]["log_var"], -entries[1]["mean"])
    np.testing.assert_array_equal(entries[0]["labels"], np.arange(40) % 10)


def test_codes_are_kept_to_float16_and_read_as_float32_as_older_float32_files_are(run_dir):
    codes = np.random.default_rng(0).normal(0, 2, (40, 2))
    snapshots.write_snapshot(run_dir, 1, codes, codes / 2, np.arange(40) % 10, np.arange(40))
    with np.load(snapshots.snapshot_path(run_dir, 1)) as npz:
        assert npz["mean"].dtype == np.float16  # half the bytes: fifty a run fit pretrained/'s budget
    older = snapshots.snapshot_path(run_dir, 2)  # as train.py wrote them before: float32
    io.atomic_save_npz(older, mean=codes.astype(np.float32), log_var=codes.astype(np.float32),
                       labels=np.zeros(40, np.uint8), index=np.arange(40, dtype=np.int32))  # fmt: skip
    first, second = io.load_run(run_dir, with_model=False).epoch_latents
    assert first["mean"].dtype == second["mean"].dtype == np.float32
    np.testing.assert_allclose(first["mean"], codes, rtol=1e-3)  # float16: 11 significant bits
    np.testing.assert_array_equal(second["mean"], codes.astype(np.float32))


def test_a_run_without_snapshots_has_an_empty_list(run_dir):
    assert io.load_run(run_dir, with_model=False).epoch_latents == []


def test_a_damaged_snapshot_is_named(run_dir):
    write(run_dir, 1)
    snapshots.snapshot_path(run_dir, 1).write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(io.RunError, match="latents/epoch_001.npz is unreadable"):
        snapshots.load_epoch_latents(run_dir)


def test_reading_snapshots_needs_no_tensorflow(run_dir):
    write(run_dir, 1)
    code = (
        "import sys; from vae import io; "
        f"entries = io.load_run({str(run_dir)!r}, with_model=False).epoch_latents; "
        "assert len(entries) == 1, entries; assert 'tensorflow' not in sys.modules, 'TensorFlow was imported'"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
