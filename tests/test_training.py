"""vae.training in-process, on random images and a 16-unit model: what one epoch returns, and stopping."""

import numpy as np
import pytest

from vae import io, training
from vae.config import VAEConfig


@pytest.fixture(scope="module")
def datasets():
    rng = np.random.default_rng(0)
    x_train = rng.uniform(size=(1280, 784)).astype(np.float32)
    x_test = rng.uniform(size=(200, 784)).astype(np.float32)
    return training.make_datasets(CONFIG, x_train, x_test, np.arange(200) % 10)


CONFIG = VAEConfig(hidden=(16,), batch_size=64, epochs=2)


def test_an_epoch_gives_every_history_figure_but_its_number(datasets):
    model = training.new_model(CONFIG)
    entry = training.run_epoch(model, datasets)
    assert set(entry) == set(io.HISTORY_KEYS) - {"epoch"}
    assert abs(entry["loss"] - (entry["reconstruction"] + CONFIG.kl_weight * entry["kl"])) < 1e-3 * entry["loss"]
    assert datasets.steps == 20 and int(model.optimizer.iterations.numpy()) == 20


def test_the_stop_flag_ends_the_epoch_early_and_commits_nothing(datasets, tmp_path):
    model = training.new_model(CONFIG)
    stop = training.StopFlag()
    stop.requested = True  # as SIGTERM sets it before the first batch ends
    progress = training.EpochProgress(datasets.steps, stop, tmp_path)
    assert training.run_epoch(model, datasets, progress) is None
    assert int(model.optimizer.iterations.numpy()) < datasets.steps  # stopped after the first call's 10 steps
