"""vae.batches: the training and test batches over an in-memory array."""

import numpy as np

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
