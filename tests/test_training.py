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


def test_a_model_built_ahead_trains_exactly_like_a_fresh_one():
    job = VAEConfig(hidden=(16,), batch_size=64, epochs=2, kl_weight=2.0, lr=0.003)  # not the warm-up's weight
    rng = np.random.default_rng(1)
    images = rng.uniform(size=(640, 784)).astype(np.float32), rng.uniform(size=(100, 784)).astype(np.float32)

    def one_epoch(model):  # each on its own datasets, as each job makes them: the same shuffle order
        training.apply_epoch_schedule(model, job, 0)
        training.run_epoch(model, training.make_datasets(job, *images, np.arange(100) % 10))
        return model

    fresh = one_epoch(training.new_model(job))
    training.warm_up((job.batch_size,), VAEConfig(hidden=(16,)))  # what a waiting train.py does first
    built_ahead = training.new_model(job)
    assert not training._warm  # handed out once
    assert built_ahead.kl_weight == 2.0 and float(built_ahead.kl_weight_variable.numpy()) == 2.0
    one_epoch(built_ahead)
    assert int(built_ahead.optimizer.iterations.numpy()) == 10  # 640 / 64: the warm-up's own steps forgotten
    for ahead, now in zip(built_ahead.weights, fresh.weights, strict=True):
        np.testing.assert_array_equal(np.asarray(ahead), np.asarray(now))
