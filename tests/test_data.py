import gzip
import hashlib

import numpy as np
import pytest

from vae import data


def idx_bytes(array: np.ndarray) -> bytes:
    return data.encode_idx(array)


def test_parse_idx_round_trips_images_and_labels():
    images = np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28)
    labels = np.array([3, 7], dtype=np.uint8)
    np.testing.assert_array_equal(data.parse_idx(idx_bytes(images)), images)
    np.testing.assert_array_equal(data.parse_idx(idx_bytes(labels)), labels)


def test_wrong_magic_is_refused_with_the_file_name():
    raw = bytearray(idx_bytes(np.zeros((2, 28, 28), np.uint8)))
    raw[2] = 0x0D  # float32 element type: not MNIST
    with pytest.raises(data.DataError, match=r"images\.idx.*magic number"):
        data.parse_idx(bytes(raw), "images.idx")


def test_truncated_file_names_shape_and_length():
    raw = idx_bytes(np.zeros((5, 28, 28), np.uint8))[:-100]
    with pytest.raises(data.DataError, match=r"truncated or corrupt"):
        data.parse_idx(raw, "x")
    with pytest.raises(data.DataError, match="too short"):
        data.parse_idx(b"\x00\x00", "x")
    with pytest.raises(data.DataError, match="inside the IDX header"):
        data.parse_idx(raw[:9], "x")


def write_fake_mnist(folder, gz=True, corrupt=None):
    """Four IDX files with random content (checksums will not match the real ones)."""
    rng = np.random.default_rng(0)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (20, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte": rng.integers(0, 10, 20, dtype=np.uint8),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (10, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": rng.integers(0, 10, 10, dtype=np.uint8),
    }
    for stem, array in arrays.items():
        raw = idx_bytes(array)
        if stem == corrupt:
            raw = raw[:-1]
        if gz:
            (folder / (stem + ".gz")).write_bytes(gzip.compress(raw))
        else:
            (folder / stem).write_bytes(raw)
    return arrays


def test_checksum_mismatch_is_refused(tmp_path, monkeypatch):
    monkeypatch.delenv(data.ENV_VAR, raising=False)
    write_fake_mnist(tmp_path)
    with pytest.raises(data.DataError, match="SHA-256.*corrupt or belongs to another dataset"):
        data.load_split("train", data_dir=tmp_path, download=False)


def test_fake_dataset_with_matching_checksums_loads_raw_and_gzipped(tmp_path, monkeypatch):
    for gz in (True, False):
        folder = tmp_path / f"gz{gz}"
        folder.mkdir()
        arrays = write_fake_mnist(folder, gz=gz)
        sums = {stem: hashlib.sha256(idx_bytes(a)).hexdigest() for stem, a in arrays.items()}
        monkeypatch.setitem(data.DATASETS, "fake", data.DatasetInfo("fake", urls=(), sha256=sums))
        split = data.load_split("test", dataset="fake", data_dir=folder, download=False)
        np.testing.assert_array_equal(split.images, arrays["t10k-images-idx3-ubyte"])


def test_truncated_gzip_member_names_the_file(tmp_path):
    write_fake_mnist(tmp_path)
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(data.DataError, match="t10k-images-idx3-ubyte.gz: damaged gzip"):
        data.load_split("test", data_dir=tmp_path, download=False)


def test_nothing_found_offline_lists_every_place_searched(tmp_path, monkeypatch):
    monkeypatch.setenv(data.ENV_VAR, str(tmp_path / "env"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    with pytest.raises(data.DataError) as err:
        data.load_split("train", data_dir=tmp_path / "arg", download=False)
    message = str(err.value)
    for place in ("arg", "env", "keras"):
        assert str(tmp_path / place) in message
    assert "--data-dir" in message and data.ENV_VAR in message


def test_download_failure_is_reported_with_the_search(tmp_path, monkeypatch):
    monkeypatch.delenv(data.ENV_VAR, raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))

    def offline(*args, **kwargs):
        raise OSError("network unreachable")

    monkeypatch.setattr(data.urllib.request, "urlopen", offline)
    with pytest.raises(data.DataError, match="network unreachable"):
        data.load_split("train")


def test_unknown_dataset_and_split():
    with pytest.raises(data.DataError, match="unknown dataset"):
        data.load_split("train", dataset="cifar")
    with pytest.raises(data.DataError, match="unknown split"):
        data.load_split("valid")


def test_real_mnist_preprocessing(mnist_dir):
    x, labels = data.load_vectors("test", data_dir=mnist_dir)
    assert x.shape == (10_000, 784) and x.dtype == np.float32
    assert x.min() == 0.0 and x.max() == 1.0
    assert np.bincount(labels).tolist()[:2] == [980, 1135]  # the published test-set class counts


def test_keras_npz_is_accepted_and_checked(mnist_dir, tmp_path, monkeypatch):
    train, test = data.load_split("train", data_dir=mnist_dir), data.load_split("test", data_dir=mnist_dir)
    keras_home = tmp_path / "keras"
    (keras_home / "datasets").mkdir(parents=True)
    npz = keras_home / "datasets" / "mnist.npz"
    np.savez(npz, x_train=train.images, y_train=train.labels, x_test=test.images, y_test=test.labels)
    monkeypatch.delenv(data.ENV_VAR, raising=False)
    monkeypatch.setenv("KERAS_HOME", str(keras_home))
    np.testing.assert_array_equal(data.load_split("test", download=False).labels, test.labels)
    bad = test.labels.copy()
    bad[0] = (bad[0] + 1) % 10
    np.savez(npz, x_train=train.images, y_train=train.labels, x_test=test.images, y_test=bad)
    with pytest.raises(data.DataError, match=r"mnist.npz \[t10k-labels-idx1-ubyte\]: SHA-256"):
        data.load_split("test", download=False)
