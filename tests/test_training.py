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


def test_the_epoch_schedule_sets_the_learning_rate_and_the_kl_warmup():
    config = VAEConfig(hidden=(16,), lr=0.004, epochs=4, lr_schedule="cosine", kl_warmup_epochs=2)
    rates = [training.epoch_lr(config, epoch) for epoch in range(4)]
    np.testing.assert_allclose(rates, [0.004, 0.004 * 0.5 * (1 + np.cos(np.pi / 4)), 0.002, 0.004 * 0.5 * (1 - np.cos(np.pi / 4))])  # fmt: skip
    assert [training.epoch_kl_warmup(config, epoch) for epoch in range(4)] == [0.5, 1.0, 1.0, 1.0]
    default = VAEConfig(hidden=(16,), lr=0.004, epochs=4)  # today's behaviour: constant rate, no warm-up
    assert {training.epoch_lr(default, e) for e in range(4)} == {0.004}
    assert {training.epoch_kl_warmup(default, e) for e in range(4)} == {1.0}
    model = training.new_model(config)
    training.apply_epoch_schedule(model, config, 2)
    assert float(model.optimizer.learning_rate.numpy()) == pytest.approx(0.002)
    training.apply_epoch_schedule(model, config, 0)
    assert float(model.kl_warmup.numpy()) == 0.5
