"""pretrained/: what the shipped runs promise a lecturer and a student (pretrained/README.md).

The three KL runs differ in kl_weight alone, so the compare view shows its effect, and the unlabelled run
differs from the default in its labels alone; each replays every epoch; they fit the repository's
budget; and the default places digits the model never saw (printed in the installed fonts, pen-drawn)
among the test codes of their own digit.
"""

from __future__ import annotations

import dataclasses

import pytest

from tests.helpers import ROOT, skip_or_fail
from vae import foreign, io
from vae.config import KL_PRESETS
from vae.limits import RETRAIN_LABEL_WEIGHT

PRETRAINED = ROOT / "pretrained"
KL_RUNS = ("elbo-kl1", "seed-kl0.0784", "beta-kl4")
UNLABELLED = "unlabelled-kl1"  # the default's recipe without the label head: what a VAE finds alone
BUDGET_BYTES = 25 * 1024 * 1024  # the limit on pretrained/ as a whole
FOREIGN_TARGET = 0.75  # the 15-NN vote each foreign set must reach on the default run


@pytest.fixture(scope="module")
def runs() -> dict[str, io.Run]:
    return {name: io.load_run(PRETRAINED / name, with_model=False) for name in (*KL_RUNS, UNLABELLED)}


def test_the_three_runs_differ_in_kl_weight_alone(runs):
    configs = {name: dataclasses.asdict(runs[name].config) for name in KL_RUNS}
    assert sorted(c["kl_weight"] for c in configs.values()) == sorted(KL_PRESETS.values())
    recipes = [{k: v for k, v in c.items() if k != "kl_weight"} for c in configs.values()]
    assert all(recipe == recipes[0] for recipe in recipes), recipes
    assert {len(runs[name].history) for name in KL_RUNS} == {recipes[0]["epochs"]}
    assert recipes[0]["label_weight"] == RETRAIN_LABEL_WEIGHT  # an app retrain with labels trains as these did


def test_the_unlabelled_run_is_the_default_without_its_labels(runs):
    default, unlabelled = (dataclasses.asdict(runs[name].config) for name in ("elbo-kl1", UNLABELLED))
    assert default["label_weight"] > 0 and unlabelled["label_weight"] == 0
    assert {k: v for k, v in default.items() if k != "label_weight"} == {
        k: v for k, v in unlabelled.items() if k != "label_weight"
    }
    assert len(runs[UNLABELLED].history) == len(runs["elbo-kl1"].history)


def test_each_run_replays_every_epoch(runs):
    for run in runs.values():
        entries = run.epoch_latents
        assert [e["epoch"] for e in entries] == list(range(1, len(run.history) + 1))
        assert all(e["mean"].shape == (len(e["labels"]), run.config.latent_dim) for e in entries)


def test_pretrained_fits_its_budget():
    size = sum(path.stat().st_size for path in PRETRAINED.rglob("*") if path.is_file())
    assert size <= BUDGET_BYTES, f"pretrained/ is {size / 2**20:.1f} MiB"


def test_the_default_puts_foreign_digits_among_their_own_kind():
    if len(foreign.installed_fonts()) < 3:
        skip_or_fail("fewer than 3 fonts installed (Debian: fonts-dejavu, fonts-liberation, fonts-freefont-ttf)")
    run = io.load_run(PRETRAINED / "elbo-kl1", numpy=True)  # the numpy model the app serves
    test_codes, test_labels = run.latents["mean"], run.latents["labels"]
    report = foreign.foreign_report(run.model, test_codes, test_labels)
    for name in ("printed", "pen"):
        assert report[name]["accuracy"] >= FOREIGN_TARGET, (name, report[name])
    assert report["printed"]["sources"] == len(foreign.installed_fonts())  # every font, not a few
