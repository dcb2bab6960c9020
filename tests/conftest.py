"""Shared fixtures. Data-dependent tests skip without MNIST, except in CI where that is a failure."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def skip_or_fail(reason: str) -> None:
    """Skip locally; in CI a missing prerequisite must not pass silently."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: this prerequisite must be present)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """The MNIST folder found by the package's own rules ($VAE_DATA_DIR, Keras cache)."""
    from vae import data

    try:
        data.load_split("test", download=False)
    except data.DataError as err:
        skip_or_fail(f"real MNIST not available (set VAE_DATA_DIR): {str(err).splitlines()[0]}")
    return Path(os.environ.get(data.ENV_VAR, data.keras_cache_dir()))


def run_train(*args: str, timeout: float = 300, **popen) -> subprocess.CompletedProcess:
    """train.py in a fresh process, as a user runs it."""
    return subprocess.run(
        [sys.executable, str(ROOT / "train.py"), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        **popen,
    )


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory, mnist_dir) -> Path:
    """A real 2-epoch run on 2,000 images, shared by the tests that only read it."""
    run_dir = tmp_path_factory.mktemp("runs") / "tiny"
    result = run_train("--subset", "2000", "--epochs", "2", "--out", str(run_dir))
    assert result.returncode == 0, result.stderr[-3000:]
    return run_dir


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """In CI every skip is a failure: a test that cannot run there proves nothing."""
    outcome = yield
    report = outcome.get_result()
    if IN_CI and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        reason = report.longrepr[-1] if isinstance(report.longrepr, tuple) else report.longrepr
        report.longrepr = f"skipped in CI, which must run every test: {reason}"
