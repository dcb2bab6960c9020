"""How good is a trained VAE? Figures in nats per test image, merged into RUN_DIR/metrics.json.

    python -m vae.evaluate RUN_DIR                 # everything: ELBO, IWAE k=1000, exact NLL, coverage, foreign
    python -m vae.evaluate RUN_DIR --k 5000 --grid 400 --no-write

The three estimates of -log p(x) for the 10,000 test images (vae.likelihood: negative ELBO, IWAE
with k samples, and for a 2-D latent the exact figure by quadrature), in nats per image.

Digit coverage: a small MNIST classifier (vae/classifier.py) reads each cell of the 20x20
latent grid at Gaussian quantiles; which digits appear with softmax > 0.9, and how many cells do.

Foreign digits (vae.foreign): printed and pen-drawn digits not from MNIST; how often their codes
land among the test codes of their own digit (15-NN vote), beside the test digits' own figure.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from vae.bound import EXACT_EXTENT, EXACT_GRID
from vae.classifier import DEFAULT_PATH as CLASSIFIER_PATH
from vae.foreign import foreign_report, format_table
from vae.generate import DigitMap, latent_map
from vae.inference import NumpyClassifier
from vae.io import atomic_write_json, read_json
from vae.likelihood import CHEAP_K, FULL_K, exact_nll, iwae_nll, negative_elbo

CONFIDENT = 0.9  # softmax above this counts as "clearly a digit"
EVALUATOR_KEYS = ("test", "iwae", "exact", "coverage", "foreign", "seconds", "test_images")


# ------------------------------------------------------------------------- what digits live where


def coverage(digit_map: DigitMap, threshold: float = CONFIDENT) -> dict:
    """Which digits the grid shows clearly, and what share of its cells are clear at all."""
    confident = digit_map.confidence > threshold
    counts = np.bincount(digit_map.labels[confident], minlength=10)
    return {
        "digits": [int(d) for d in np.flatnonzero(counts)],
        "n_digits": int((counts > 0).sum()),
        "confident_share": float(confident.mean()),
        "cells_per_digit": {str(d): int(c) for d, c in enumerate(counts)},
        "threshold": threshold,
    }


# -------------------------------------------------------------------------------------- runner


@contextmanager
def timed(seconds: dict[str, float], name: str) -> Iterator[None]:
    """Wall-clock seconds of the with-block, stored as seconds[name] (metrics.json's "seconds")."""
    start = time.perf_counter()
    yield
    seconds[name] = time.perf_counter() - start


def evaluate(
    model,
    x_test: np.ndarray,
    cheap: bool = True,
    k: int | None = None,
    exact: bool | None = None,
    grid: int = EXACT_GRID,
    extent: float = EXACT_EXTENT,
    classifier_path: str | Path | None = CLASSIFIER_PATH,
    labels: np.ndarray | None = None,
    foreign: bool | None = None,
    log=print,
) -> dict:
    """All figures as one dict for metrics.json. cheap: seconds (what train.py runs); else minutes.

    labels: the test digits' labels, for the foreign-digit vote (skipped without them).
    """
    k = k or (CHEAP_K if cheap else FULL_K)
    exact = (not cheap) if exact is None else exact
    foreign = (not cheap) if foreign is None else foreign
    metrics, seconds = {}, {}

    with timed(seconds, "neg_elbo"):
        metrics["test"] = negative_elbo(model, x_test)
    test = metrics["test"]
    log(f"negative ELBO {test['neg_elbo']:8.2f}  (reconstruction {test['reconstruction']:.2f} + KL {test['kl']:.2f})")

    with timed(seconds, "iwae"):
        by_k = iwae_nll(model, x_test, k=k)
    metrics["iwae"] = {"k": k, "nll": by_k[k], "by_k": {str(kk): v for kk, v in by_k.items()}}
    log(f"IWAE k={k:<6d} {by_k[k]:8.2f}  ({seconds['iwae']:.1f} s)")

    if exact and model.latent_dim == 2:
        with timed(seconds, "exact"):
            metrics["exact"] = e = exact_nll(model, x_test, grid=grid, extent=extent)
        log(
            f"exact NLL     {e['nll']:8.2f}  (midpoint rule, {grid}x{grid} cells over [-{extent:g}, {extent:g}]^2, "
            f"spacing {e['spacing']:.3f}; at spacing {2 * e['spacing']:.3f}: {e['nll_coarse']:.2f}; "
            f"{seconds['exact']:.1f} s)"
        )
        if e["codes_outside"] > 0:
            log(f"              warning: {e['codes_outside']:.1%} of the test codes lie outside the grid")
    exact_value = metrics.get("exact", {}).get("nll")
    log("      k   IWAE NLL" + ("   minus exact" if exact_value else ""))
    for kk, v in by_k.items():
        log(f"{kk:>7d}  {v:9.2f}" + (f"   {v - exact_value:+8.3f}" if exact_value else ""))

    if classifier_path is not None and Path(classifier_path).is_file():
        with timed(seconds, "coverage"):
            digit_map = latent_map(model, NumpyClassifier.load(classifier_path), n=20, spacing="quantile")
            metrics["coverage"] = coverage(digit_map) | {"grid": "20x20 quantile"}
        c = metrics["coverage"]
        log(
            f"coverage      {c['n_digits']}/10 digits {c['digits']} with softmax > {c['threshold']}, "
            f"{c['confident_share']:.0%} of the {c['grid']} grid's cells confident"
        )
    elif classifier_path is not None:
        log(f"coverage      skipped: no classifier at {classifier_path} (python -m vae.classifier trains one)")

    if foreign and labels is not None:
        has_classifier = classifier_path is not None and Path(classifier_path).is_file()
        with timed(seconds, "foreign"):
            codes = model.encode(x_test)[0]
            classifier = NumpyClassifier.load(classifier_path) if has_classifier else None
            metrics["foreign"] = foreign_report(model, codes, labels, classifier=classifier)
        log(f"foreign digits, their codes voted on by the {len(codes)} test codes ({seconds['foreign']:.1f} s):")
        log(format_table(metrics["foreign"]))
    elif foreign:
        log("foreign digits skipped: the test labels were not given")

    metrics["seconds"] = {name: round(s, 2) for name, s in seconds.items()}
    metrics["test_images"] = len(x_test)
    return metrics


def mnist_only_steps(options: dict, dataset: str) -> dict:
    """The options with the steps that compare against MNIST digits (coverage, foreign digits) off for other data."""
    if dataset == "mnist":
        return options
    return options | {"classifier_path": None, "foreign": False}  # MNIST digits say nothing about other images


def write_metrics(run_dir: str | Path, model, x_test: np.ndarray, cheap: bool = True, **options) -> dict:
    """Compute the figures and merge them into metrics.json.

    This evaluator's keys are replaced as a set (a figure from an earlier model, e.g. before
    a resumed run, must not survive beside new ones); other tools' keys are kept.
    """
    run_dir = Path(run_dir)
    options = mnist_only_steps(options, read_json(run_dir / "config.json", default={}).get("dataset", "mnist"))
    path = run_dir / "metrics.json"
    new = evaluate(model, x_test, cheap=cheap, **options)
    kept = {key: value for key, value in read_json(path, default={}).items() if key not in EVALUATOR_KEYS}
    atomic_write_json(path, kept | new)
    return kept | new


def main(argv: list[str] | None = None) -> int:
    from vae import data
    from vae.io import RunError, load_run

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run_dir")
    parser.add_argument("--k", type=int, default=FULL_K, help="IWAE samples per image (default %(default)s)")
    parser.add_argument("--cheap", action="store_true", help=f"what train.py runs: k={CHEAP_K}, no quadrature")
    parser.add_argument("--no-exact", action="store_true", help="skip the quadrature (2-D latents only anyway)")
    parser.add_argument("--grid", type=int, default=EXACT_GRID, help="quadrature cells per axis")
    parser.add_argument("--extent", type=float, default=EXACT_EXTENT, help="quadrature over [-extent, extent]^2")
    parser.add_argument(
        "--classifier", default=str(CLASSIFIER_PATH), help="MNIST classifier for digit coverage ('none': skip it)"
    )
    parser.add_argument("--no-foreign", action="store_true", help="skip the printed and pen-drawn digits (vae.foreign)")
    parser.add_argument("--no-write", action="store_true", help="print only; leave metrics.json alone")
    parser.add_argument("--images", type=int, default=None, help="only the first N test images (quick looks)")
    parser.add_argument("--data-dir", default=None, help="folder with the MNIST IDX files (else $VAE_DATA_DIR, ...)")
    args = parser.parse_args(argv)

    try:
        run = load_run(args.run_dir, compile=False)
        x_test, labels = data.load_vectors("test", run.config.dataset, args.data_dir, args.images)
    except (RunError, data.DataError) as err:
        print(f"cannot evaluate {args.run_dir}: {err}", file=sys.stderr)
        return 2
    options = {
        "cheap": args.cheap,
        "k": None if args.cheap else args.k,
        "exact": not (args.cheap or args.no_exact),
        "grid": args.grid,
        "extent": args.extent,
        "classifier_path": None if args.classifier == "none" else args.classifier,
        "labels": labels,
        "foreign": not (args.cheap or args.no_foreign),
    }
    print(f"{run.run_dir}: latent_dim {run.config.latent_dim}, hidden {run.config.hidden}, "
          f"kl_weight {run.config.kl_weight:g}, {run.epochs_done} epochs; {len(x_test)} test images, nats per image")  # fmt: skip
    options = mnist_only_steps(options, run.config.dataset)
    if args.no_write:
        evaluate(run.model, x_test, **options)
    else:
        write_metrics(run.run_dir, run.model, x_test, **options)
        print(f"merged into {run.run_dir / 'metrics.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
