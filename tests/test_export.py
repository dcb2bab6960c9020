"""vae.export: a load-only copy of a run for pretrained/, with its replay (latent snapshots)."""

import numpy as np

from tests.helpers import make_run
from vae import io, snapshots
from vae.export import export_run


def test_export_drops_optimizer_state_and_keeps_what_the_app_shows(tmp_path):
    run_dir = make_run(tmp_path / "run", epochs=2)
    model = io.load_run(run_dir).model
    model.fit(np.random.default_rng(0).uniform(size=(32, 784)).astype(np.float32), epochs=1, verbose=0)
    history = io.load_run(run_dir, with_model=False).history
    io.commit_epoch(run_dir, model, history)  # now the model file carries Adam's moments
    labels = np.arange(100) % 10
    for epoch in (1, 2, 3):  # epoch 3's snapshot was written but never committed
        snapshots.write_snapshot(run_dir, epoch, np.full((100, 2), epoch), np.zeros((100, 2)), labels, np.arange(100))
    io.atomic_write_bytes(run_dir / "samples" / "epoch_002.png", b"a png")

    dest = export_run(run_dir, tmp_path / "exported")
    exported = io.load_run(dest)
    assert exported.model_file == "model.keras" and exported.epochs_done == 2
    assert (dest / "model.keras").stat().st_size < 0.6 * (run_dir / "model_epoch_002.keras").stat().st_size
    z = np.zeros((3, 2), np.float32)
    np.testing.assert_array_equal(exported.model.decode(z), model.decode(z))
    assert [s["epoch"] for s in exported.epoch_latents] == [1, 2]
    assert not snapshots.snapshot_path(dest, 3).exists()
    assert [p.name for p in exported.samples] == ["epoch_002.png"]
    np.testing.assert_array_equal(exported.latents["mean"], io.load_run(run_dir, with_model=False).latents["mean"])
