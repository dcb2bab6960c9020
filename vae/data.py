"""MNIST (and any dataset in the same IDX layout): find it, check it, load it.

Where data comes from, first match wins:
  1. an explicit ``data_dir`` (train.py's ``--data-dir``),
  2. the environment variable ``VAE_DATA_DIR``,
  3. the Keras cache (``~/.keras/datasets/mnist.npz`` or our own downloads there),
  4. a download from the canonical mirror into the Keras cache.

Every byte is checked: IDX magic numbers, dimensions and lengths, and the SHA-256 of
the uncompressed content against the published release, so a truncated or swapped
file fails loudly instead of training on garbage.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import struct
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vae.messages import UserError

ENV_VAR = "VAE_DATA_DIR"
SPLITS = ("train", "test")


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    urls: tuple[str, ...]  # mirrors, tried in order
    sha256: dict[str, str]  # IDX file stem -> SHA-256 of the uncompressed file
    keras_npz: str | None = None  # file name Keras uses in its cache, if any
    class_names: tuple[str, ...] = tuple(str(d) for d in range(10))


DATASETS = {
    "mnist": DatasetInfo(
        name="mnist",
        urls=(
            "https://storage.googleapis.com/cvdf-datasets/mnist/",
            "https://ossci-datasets.s3.amazonaws.com/mnist/",
        ),
        sha256={
            "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
            "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
            "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
            "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
        },
        keras_npz="mnist.npz",
    ),
    "fashion-mnist": DatasetInfo(
        name="fashion-mnist",
        urls=("https://storage.googleapis.com/tensorflow/tf-keras-datasets/",),
        sha256={
            "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
            "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
            "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
            "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
        },
        class_names=(
            "T-shirt",
            "Trouser",
            "Pullover",
            "Dress",
            "Coat",
            "Sandal",
            "Shirt",
            "Sneaker",
            "Bag",
            "Boot",
        ),
    ),
}

_STEMS = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
_IDX_DTYPE = {0x08: np.uint8}  # the only element type MNIST-style files use


class DataError(UserError):
    """A dataset could not be found or failed a check; the message says how to fix it."""


@dataclass(frozen=True)
class Split:
    images: np.ndarray  # (N, 28, 28) uint8
    labels: np.ndarray  # (N,) uint8


def keras_cache_dir() -> Path:
    return Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")) / "datasets"


# ---------------------------------------------------------------------------- IDX


def parse_idx(raw: bytes, source: str = "<bytes>") -> np.ndarray:
    """Decode one uncompressed IDX file; every header field is checked against the length."""
    if len(raw) < 4:
        raise DataError(
            "data.too_short", "{source}: {size} bytes is too short for an IDX file (truncated?)", source=source,
            size=len(raw),
        )  # fmt: skip
    zero, dtype_code, ndim = struct.unpack(">HBB", raw[:4])
    if zero != 0 or dtype_code not in _IDX_DTYPE or not 1 <= ndim <= 4:
        raise DataError(
            "data.not_idx",
            "{source}: not an IDX file of unsigned bytes (magic number {magic}, "
            "expected 0000 08 01 for labels or 0000 08 03 for images)",
            source=source, magic=raw[:4].hex(),
        )  # fmt: skip
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError("data.short_header", "{source}: truncated inside the IDX header", source=source)
    shape = struct.unpack(f">{ndim}I", raw[4:header])
    expected = header + int(np.prod(shape, dtype=np.int64))
    if len(raw) != expected:
        raise DataError(
            "data.wrong_length",
            "{source}: IDX header says shape {shape} ({expected} bytes) but the file has "
            "{size} bytes: the file is truncated or corrupt; delete it and fetch it again",
            source=source, shape=shape, expected=expected, size=len(raw),
        )  # fmt: skip
    return np.frombuffer(raw, dtype=_IDX_DTYPE[dtype_code], offset=header).reshape(shape)


def encode_idx(array: np.ndarray) -> bytes:
    """The IDX bytes of a uint8 array (used to checksum mnist.npz like the original files)."""
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()


def _read_maybe_gzip(path: Path) -> bytes:
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(data)
        except (OSError, EOFError) as err:
            raise DataError(
                "data.bad_gzip", "{path}: damaged gzip file ({error}); delete it and fetch it again", path=str(path),
                error=str(err),
            ) from err  # fmt: skip
    return data


def _check_sha256(raw: bytes, stem: str, info: DatasetInfo, source: str) -> None:
    digest = hashlib.sha256(raw).hexdigest()
    if digest != info.sha256[stem]:
        raise DataError(
            "data.bad_checksum",
            "{source}: SHA-256 of the uncompressed content is {digest}, expected {expected} for {dataset}'s {stem}: "
            "the file is corrupt or belongs to another dataset; delete it and fetch it again",
            source=source, digest=digest, expected=info.sha256[stem], dataset=info.name, stem=stem,
        )  # fmt: skip


def _find_idx(directory: Path, stem: str) -> Path | None:
    for name in (stem + ".gz", stem, stem.replace("-idx", ".idx")):
        if (directory / name).is_file():
            return directory / name
    return None


def _load_idx_split(directory: Path, split: str, info: DatasetInfo) -> Split:
    arrays = []
    for stem in _STEMS[split]:
        path = _find_idx(directory, stem)
        if path is None:
            raise DataError("data.missing", "{directory}: {stem}[.gz] is missing", directory=str(directory), stem=stem)
        raw = _read_maybe_gzip(path)
        arrays.append(parse_idx(raw, str(path)))
        _check_sha256(raw, stem, info, str(path))
    images, labels = arrays
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise DataError(
            "data.unpaired", "{directory}: {split} images {images} and labels {labels} do not pair up",
            directory=str(directory), split=split, images=images.shape, labels=labels.shape,
        )  # fmt: skip
    return Split(images, labels)


def _load_npz_split(path: Path, split: str, info: DatasetInfo) -> Split:
    try:
        with np.load(path, allow_pickle=False) as npz:
            images, labels = npz[f"x_{split}"], npz[f"y_{split}"]
    except Exception as err:  # zipfile, KeyError, ValueError: all mean "not a usable npz"
        raise DataError(
            "data.bad_npz", "{path}: not a readable Keras {npz} ({error}); delete it", path=str(path),
            npz=info.keras_npz, error=str(err),
        ) from err  # fmt: skip
    for array, stem in zip((images, labels), _STEMS[split], strict=True):
        _check_sha256(encode_idx(array), stem, info, f"{path} [{stem}]")
    return Split(images, labels)


# ---------------------------------------------------------------------- resolution


def _has_idx(directory: Path) -> bool:
    return all(_find_idx(directory, stem) for stems in _STEMS.values() for stem in stems)


def _candidates(info: DatasetInfo, data_dir: str | os.PathLike | None) -> list[tuple[str, Path]]:
    places = []
    for origin, base in (("data_dir argument", data_dir), (f"${ENV_VAR}", os.environ.get(ENV_VAR))):
        if base:
            places += [(origin, Path(base)), (origin, Path(base) / info.name)]
    cache = keras_cache_dir()
    if info.keras_npz:
        places.append(("Keras cache", cache / info.keras_npz))
    places.append(("Keras cache", cache / info.name))
    return places


def _download(info: DatasetInfo, target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    for stems in _STEMS.values():
        for stem in stems:
            dest = target / (stem + ".gz")
            if dest.exists():
                continue
            errors = []
            for base in info.urls:
                try:
                    with urllib.request.urlopen(base + stem + ".gz", timeout=30) as response:
                        payload = response.read()
                    _check_sha256(gzip.decompress(payload), stem, info, base + stem + ".gz")
                    tmp = dest.with_suffix(".part")
                    tmp.write_bytes(payload)
                    os.replace(tmp, dest)
                    break
                except Exception as err:  # network, HTTP or checksum: try the next mirror
                    errors.append(f"{base}: {err}")
            else:
                raise DataError("data.download_failed", "download failed:\n  {errors}", errors="\n  ".join(errors))


def load_split(
    split: str = "train", dataset: str = "mnist", data_dir: str | os.PathLike | None = None, download: bool = True
) -> Split:
    """Return one split as uint8 images (N, 28, 28) and labels (N,), found by the rules above."""
    if dataset not in DATASETS:
        raise DataError(
            "data.unknown_dataset", "unknown dataset {dataset!r}; choose one of {choices}", dataset=dataset,
            choices=sorted(DATASETS),
        )  # fmt: skip
    if split not in SPLITS:
        raise DataError(
            "data.unknown_split", "unknown split {split!r}; choose one of {choices}", split=split, choices=SPLITS
        )
    info = DATASETS[dataset]
    searched = []
    for origin, place in _candidates(info, data_dir):
        searched.append(f"{place} ({origin})")
        if place.suffix == ".npz" and place.is_file():
            return _load_npz_split(place, split, info)
        if place.is_dir() and _has_idx(place):
            return _load_idx_split(place, split, info)
    if download:
        target = keras_cache_dir() / info.name
        try:
            _download(info, target)
            return _load_idx_split(target, split, info)
        except DataError as err:
            searched.append(f"download into {target}: {err}")
    raise DataError(
        "data.not_found",
        "{dataset} not found. Searched:\n  {searched}\nFix: pass --data-dir (or set {env}) to a folder holding the "
        "four IDX files (gzipped or not), or put mnist.npz in the Keras cache, or go online once to download.",
        dataset=dataset, searched="\n  ".join(searched), env=ENV_VAR,
    )  # fmt: skip


# -------------------------------------------------------------------- preprocessing


def to_vectors(images: np.ndarray) -> np.ndarray:
    """uint8 (N, 28, 28) -> float32 (N, 784) in [0, 1], as the seed tutorial does."""
    # one pass and one array (astype, then /, made two, the second as large as the training set)
    return np.divide(images.reshape(len(images), -1), np.float32(255.0), dtype=np.float32)


def load_vectors(
    split: str = "train",
    dataset: str = "mnist",
    data_dir: str | os.PathLike | None = None,
    subset: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(x, labels) with x float32 (N, 784) in [0, 1]; ``subset`` keeps the first N images."""
    data = load_split(split, dataset, data_dir)
    images, labels = data.images, data.labels
    if subset:
        images, labels = images[:subset], labels[:subset]
    return to_vectors(images), labels.astype(np.int64)
