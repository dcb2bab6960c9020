"""Digits not from MNIST: two labelled sets with every digit, the same for the same seed, and a vote counted right."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import ImageFont

from tests.helpers import ROOT, skip_or_fail
from vae import foreign
from vae.inference import CLASSIFIER_PATH, NumpyClassifier


@pytest.fixture(scope="module")
def fonts() -> list:
    """Three installed fonts (the first in sorted order: the same ones on every run)."""
    found = foreign.installed_fonts()
    if len(found) < 3:
        skip_or_fail("fewer than 3 TrueType/OpenType fonts installed (Debian: fonts-dejavu, fonts-liberation)")
    return found[:3]


@pytest.fixture(scope="module")
def classifier() -> NumpyClassifier:
    if not CLASSIFIER_PATH.is_file():
        skip_or_fail(f"{CLASSIFIER_PATH} missing: python -m vae.classifier trains it")
    return NumpyClassifier.load(CLASSIFIER_PATH)


def check_set(digits: foreign.DigitSet, images_per_digit: int) -> None:
    assert digits.images.shape == (10 * images_per_digit, 28, 28) and digits.images.dtype == np.float32
    assert np.bincount(digits.labels, minlength=10).tolist() == [images_per_digit] * 10
    assert len(digits.sources) == len(digits.labels)
    assert digits.images.min() >= 0 and digits.images.max() <= 1
    assert (digits.images.reshape(len(digits.images), -1).max(axis=1) == 1).all()  # every one has a digit in it


def test_printed_digits_every_digit_in_every_font_and_size(fonts):
    digits = foreign.printed_digits(seed=0, fonts=fonts, sizes=(24, 48))
    check_set(digits, images_per_digit=len(fonts) * 2)
    assert sorted(set(digits.sources)) == sorted(path.name for path in fonts)


def test_fonts_without_the_digits_or_unreadable_are_skipped(fonts, tmp_path):
    latin = [path for path in foreign.installed_fonts() if path.name.startswith(("DejaVuSans", "Liberation"))]
    if not latin:
        skip_or_fail("no DejaVu Sans or Liberation font installed (Debian: fonts-dejavu, fonts-liberation)")
    face = ImageFont.truetype(str(latin[0]), 24)
    assert foreign.has_glyphs(face, foreign.DIGITS)
    assert not foreign.has_glyphs(face, "0\u4e00")  # a CJK ideograph: not in a Latin font
    broken = tmp_path / "broken.ttf"
    broken.write_bytes(b"not a font")
    digits = foreign.printed_digits(fonts=[broken, fonts[0]], sizes=(24,))
    assert set(digits.sources) == {fonts[0].name} and len(digits.labels) == 10


def test_pen_digits_use_every_variant_of_every_digit():
    digits = foreign.pen_digits(seed=0, per_digit=4)
    check_set(digits, images_per_digit=4)
    for digit, variants in foreign.STROKES.items():
        assert {s for s, label in zip(digits.sources, digits.labels, strict=True) if label == digit} == {
            f"{digit}/variant {i}" for i in range(min(4, len(variants)))
        }


def test_the_same_seed_gives_the_same_digits(fonts):
    same = [foreign.pen_digits(seed=3, per_digit=2).images for _ in range(2)]
    np.testing.assert_array_equal(*same)
    assert not np.array_equal(same[0], foreign.pen_digits(seed=4, per_digit=2).images)
    printed = [foreign.printed_digits(seed=seed, fonts=fonts[:1], sizes=(48,)).images for seed in (3, 3, 4)]
    np.testing.assert_array_equal(printed[0], printed[1])
    assert not np.array_equal(printed[0], printed[2])  # another seed, other rotations


def test_a_digit_classifier_reads_both_sets_as_their_labels(fonts, classifier):
    """The 28x28s look like the digits they are labelled as: a wrong stroke list or label would show here."""
    for digits in (foreign.printed_digits(fonts=fonts, sizes=(48,)), foreign.pen_digits(per_digit=6)):
        read = classifier.predict(digits.images.reshape(len(digits.images), -1)).argmax(axis=1)
        assert np.mean(read == digits.labels) > 0.9, digits.name
        assert all(np.mean(read[digits.labels == d] == d) >= 0.5 for d in range(10)), digits.name


def test_vote_accuracy_on_clusters_with_a_known_answer():
    """Ten tight clusters, one per digit: codes placed in their own digit's cluster count, others do not."""
    centres = np.stack([np.cos(np.arange(10)), np.sin(np.arange(10))], axis=1) * 5
    rng = np.random.default_rng(0)
    reference_labels = np.repeat(np.arange(10), 20)
    reference = centres[reference_labels] + rng.normal(0, 0.05, (200, 2))
    labels = np.arange(10)
    placed_in = np.array([0, 1, 2, 3, 4, 5, 6, 9, 9, 9])  # 7 and 8 land among the 9s
    assert foreign.vote_accuracy(centres[placed_in], labels, reference, reference_labels) == pytest.approx(0.8)


class _AllAtThree:
    """A 'model' that puts every image on the 3s' cluster."""

    def encode(self, x):
        codes = np.tile([[3.0, 3.0]], (len(x), 1))
        return codes, np.zeros_like(codes)


def test_report_counts_each_set_per_digit(fonts, monkeypatch):
    """Every foreign digit lands among the 3s: each set scores exactly its share of 3s (0.1), 1.0 for
    the 3s and 0.0 for every other digit; the separated reference clusters score 1.0 left one out."""
    monkeypatch.setattr(foreign, "installed_fonts", lambda: fonts[:2])
    rng = np.random.default_rng(1)
    reference_labels = np.repeat(np.arange(10), 30)
    reference = np.stack([reference_labels, reference_labels], axis=1) + rng.normal(0, 0.05, (300, 2))
    report = foreign.foreign_report(_AllAtThree(), reference, reference_labels, per_digit=2)
    assert report["mnist"] == {"images": 300, "accuracy": 1.0, "per_digit": {str(d): 1.0 for d in range(10)}}
    for name, images in (("printed", 2 * 10 * len(foreign.PRINTED_SIZES)), ("pen", 20)):
        assert report[name]["images"] == images and report[name]["accuracy"] == pytest.approx(0.1)
        assert report[name]["per_digit"] == {str(d): float(d == 3) for d in range(10)}
    table = foreign.format_table(report)
    assert "MNIST test" in table and "printed" in table and "pen" in table


def test_cli_prints_the_table_for_a_pretrained_run(fonts, monkeypatch, capsys):
    monkeypatch.setattr(foreign, "installed_fonts", lambda: fonts[:1])
    assert foreign.main([str(ROOT / "pretrained" / "elbo-kl1"), "--per-digit", "2"]) == 0
    out = capsys.readouterr().out
    assert "15-NN vote" in out and "10000" in out and "pen" in out


def test_cli_names_a_broken_run_and_exits_2(tmp_path, capsys):
    assert foreign.main([str(tmp_path / "nowhere")]) == 2
    assert "cannot evaluate" in capsys.readouterr().err
