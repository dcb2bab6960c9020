import subprocess
import sys

import pytest

from tests.helpers import make_run
from vae import catalog
from vae.config import VAEConfig
from vae.io import atomic_write_json


@pytest.fixture(scope="module")
def good_run(tmp_path_factory):
    return make_run(tmp_path_factory.mktemp("built") / "good")


def copy_run(src, dest):
    dest.mkdir()
    for path in src.iterdir():
        if path.is_file():
            dest.joinpath(path.name).write_bytes(path.read_bytes())
    return dest


def test_lists_default_pretrained_run_first_and_loads_it(roots, good_run):
    copy_run(good_run, roots["runs"] / "mine")
    copy_run(good_run, roots["pretrained"] / "other")
    copy_run(good_run, roots["pretrained"] / catalog.DEFAULT_RUN.split("/")[1])
    names = [info.name for info in catalog.list_runs()]
    assert names == [catalog.DEFAULT_RUN, "pretrained/other", "runs/mine"]
    run = catalog.open_run(catalog.describe("runs/mine"))
    assert run.model.decode([[0.0, 0.0]]).shape == (1, 784)
    assert run.latents["mean"].shape == (500, 2)


def test_listing_does_not_load_models(roots, good_run, monkeypatch):
    copy_run(good_run, roots["runs"] / "mine")
    monkeypatch.setattr(catalog, "load_run", lambda *a, **k: pytest.fail("listing loaded a model"))
    [info] = catalog.list_runs()
    assert info.ok and info.config.kl_weight == 1.0 and len(info.history) == 2
    assert info.metrics["test"]["neg_elbo"] == 150.0
    assert "kl 1" in info.label and "2 ep" in info.label


@pytest.mark.parametrize(
    "damage, reason",
    [
        (lambda d: d.joinpath("config.json").write_text("{nope"), "config.json is not valid JSON"),
        (lambda d: atomic_write_json(d / "config.json", {"latent_dim": 2, "colour": 1}), "unknown config keys"),
        (lambda d: atomic_write_json(d / "config.json", {"version": 99}), "format version 99"),
        (lambda d: d.joinpath("history.json").write_text("[]"), "history.json"),
        (lambda d: d.joinpath("history.json").unlink(), "history.json is missing"),
        (lambda d: d.joinpath("latents.npz").unlink(), "latents.npz is missing"),
        (lambda d: d.joinpath("model_epoch_002.keras").unlink(), "model_epoch_002.keras"),
        (lambda d: truncate(d / "model_epoch_002.keras"), "damaged"),
    ],
)
def test_broken_runs_are_listed_with_the_reason_and_others_still_work(roots, good_run, damage, reason):
    copy_run(good_run, roots["pretrained"] / "fine")
    damage(copy_run(good_run, roots["runs"] / "broken"))
    infos = {info.name: info for info in catalog.list_runs()}
    assert not infos["runs/broken"].ok
    assert reason in infos["runs/broken"].problem
    assert infos["pretrained/fine"].ok
    with pytest.raises(catalog.RunError, match=reason.split()[0]):
        catalog.open_run(infos["runs/broken"])


def truncate(path):
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def test_garbage_latents_fail_at_open_with_the_reason(roots, good_run):
    copy_run(good_run, roots["runs"] / "bad").joinpath("latents.npz").write_bytes(b"PK\x03\x04 not a zip")
    with pytest.raises(catalog.RunError, match="latents.npz is unreadable"):
        catalog.open_run(catalog.describe("runs/bad"))


def test_a_run_still_in_its_first_epoch_is_unavailable_with_that_reason(roots):
    run_dir = roots["runs"] / "young"
    run_dir.mkdir()
    atomic_write_json(run_dir / "config.json", VAEConfig().to_dict())
    # A live process whose command line names train.py, as vae.io.trainer_alive requires.
    trainer = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", "train.py"])
    try:
        atomic_write_json(run_dir / "status.json", {"state": "running", "pid": trainer.pid})
        [info] = catalog.list_runs()
        assert info.problem == "training has not completed its first epoch yet"
    finally:
        trainer.kill()
        trainer.wait()
    assert "history.json is missing" in catalog.describe("runs/young").problem  # dead now: just broken


@pytest.mark.parametrize(
    "name",
    ["runs/../runs/x", "runs/..", "../etc", "/etc/passwd", "runs//etc", "runs/a/b", "other/x", "runs/.hidden", "runs/",
     "runs/x\x00", "pretrained/" + "a" * 200],
)  # fmt: skip
def test_resolve_refuses_names_that_could_leave_the_roots(roots, name):
    with pytest.raises(ValueError):
        catalog.resolve(name)


def test_resolve_refuses_a_symlink_out_of_the_root(roots, tmp_path, good_run):
    outside = copy_run(good_run, tmp_path / "elsewhere")
    (roots["runs"] / "sneaky").symlink_to(outside)
    with pytest.raises(ValueError, match="outside"):
        catalog.resolve("runs/sneaky")
    assert [info.name for info in catalog.list_runs()] == []


def test_a_model_file_linked_from_outside_is_refused(roots, tmp_path, good_run):
    run_dir = copy_run(good_run, roots["runs"] / "linked")
    target = tmp_path / "model.keras"
    target.write_bytes((run_dir / "model_epoch_002.keras").read_bytes())
    (run_dir / "model_epoch_002.keras").unlink()
    (run_dir / "model_epoch_002.keras").symlink_to(target)
    assert "link to outside" in catalog.describe("runs/linked").problem


def test_resolve_accepts_plain_names_inside_the_roots(roots):
    assert catalog.resolve("runs/kl0.0784-e10-1125-140501") == (roots["runs"] / "kl0.0784-e10-1125-140501").resolve()
    assert catalog.resolve("pretrained/elbo-kl1").parent == roots["pretrained"].resolve()


def test_roots_default_to_the_folders_next_to_app_py(monkeypatch):
    for env in catalog.ROOT_ENV.values():
        monkeypatch.delenv(env, raising=False)
    assert catalog.roots() == {"pretrained": catalog.APP_DIR / "pretrained", "runs": catalog.APP_DIR / "runs"}
