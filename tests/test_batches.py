"""vae.batches: the training and test batches over an in-memory array."""

import numpy as np
import pytest

from vae import batches


def test_dataset_shuffles_batches_and_binarizes():
    x = np.tile(np.linspace(0, 1, 10, dtype=np.float32)[:, None], (1, 784))
    shuffled = [b.numpy() for b in batches.make_dataset(x, batch_size=4, seed=1)]
    assert [len(b) for b in shuffled] == [4, 4, 2]
    rows = np.concatenate(shuffled)[:, 0]
    assert sorted(rows.tolist()) == sorted(x[:, 0].tolist()) and rows.tolist() != x[:, 0].tolist()
    binary = np.concatenate([b.numpy() for b in batches.make_dataset(x, 10, shuffle=False, binarize=True)])
    assert set(np.unique(binary)) <= {0.0, 1.0}
    assert binary[0].mean() == 0.0 and binary[-1].mean() == 1.0  # p=0 and p=1 pixels are certain


def test_labels_travel_with_their_images_through_shuffle_and_distortion():
    x = np.tile(np.linspace(0, 1, 10, dtype=np.float32)[:, None], (1, 784))
    labels = np.arange(10) * 3
    for options in ({}, {"augment": True}):
        batch_list = list(batches.make_dataset(x, 4, seed=2, labels=labels, **options))
        for inputs, clean, got in batch_list:
            rows = np.rint(clean.numpy()[:, 0] * 9).astype(int)  # which row of x each clean image is
            assert got.numpy().tolist() == (rows * 3).tolist()
            if options.get("augment"):
                assert not np.array_equal(inputs.numpy(), clean.numpy())
            else:
                np.testing.assert_array_equal(inputs.numpy(), clean.numpy())
        assert sorted(np.concatenate([b[2].numpy() for b in batch_list]).tolist()) == labels.tolist()


def test_labels_must_match_the_images():
    x = np.zeros((10, 784), np.float32)
    with pytest.raises(ValueError, match="9 labels for 10 images"):
        batches.make_dataset(x, 4, labels=np.zeros(9, int))


def test_unpack_batch_reads_every_shape_a_batch_comes_in():
    a, b, c = np.zeros(1), np.ones(1), np.arange(1)
    assert batches.unpack_batch(a) == (a, a, None)
    assert batches.unpack_batch((a,)) == (a, a, None)
    assert batches.unpack_batch((a, b)) == (a, b, None)
    assert batches.unpack_batch((a, b, c)) == (a, b, c)
