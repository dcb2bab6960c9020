"""Shared fixtures, built on tests/helpers.py. Data-dependent tests skip without MNIST, except in CI where that fails."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.helpers import IN_CI, skip_or_fail, train_tiny_run
from vae import catalog


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """The MNIST folder found by the package's own rules ($VAE_DATA_DIR, Keras cache)."""
    from vae import data

    try:
        data.load_split("test", download=False)
    except data.DataError as err:
        skip_or_fail(f"real MNIST not available (set VAE_DATA_DIR): {str(err).splitlines()[0]}")
    return Path(os.environ.get(data.ENV_VAR, data.keras_cache_dir()))


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory, mnist_dir) -> Path:
    """A real run trained by train.py, shared by the tests that only read it."""
    return train_tiny_run(tmp_path_factory.mktemp("runs") / "tiny")


@pytest.fixture(autouse=True)
def no_waiting_trainer(monkeypatch) -> None:
    """No train.py waits ahead of a Train click (vae.standby): each would import TensorFlow (hundreds of MiB,
    seconds of CPU) for every AppTest of the training page and every app server a test starts.
    tests/test_jobs.py switches it back on for the tests of that very feature."""
    monkeypatch.setenv("VAE_STANDBY", "0")


@pytest.fixture
def roots(tmp_path, monkeypatch) -> dict[str, Path]:
    """Empty pretrained/ and runs/ folders that the catalog (and the app) read instead of the repository's."""
    paths = {root: tmp_path / root for root in catalog.ROOT_ENV}
    for root, path in paths.items():
        path.mkdir()
        monkeypatch.setenv(catalog.ROOT_ENV[root], str(path))
    return paths


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """In CI every skip is a failure: a test that cannot run there proves nothing."""
    outcome = yield
    report = outcome.get_result()
    if IN_CI and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        reason = report.longrepr[-1] if isinstance(report.longrepr, tuple) else report.longrepr
        report.longrepr = f"skipped in CI, which must run every test: {reason}"


@pytest.fixture(scope="session")
def node() -> str:
    """node, which runs the page's JavaScript modules against the Python they mirror."""
    path = shutil.which("node")
    if path is None:
        skip_or_fail("node is not installed: the page's JavaScript cannot be checked against Python")
    return path
