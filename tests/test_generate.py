import io as bytes_io

import numpy as np
from PIL import Image

from vae import generate
from vae.model import VAE


def test_quantile_axis_is_standard_normal_quantiles():
    axis = generate.grid_axis(20, "quantile")
    assert np.isclose(axis[0], -1.8808, atol=1e-3) and np.isclose(axis[-1], 1.8808, atol=1e-3)
    np.testing.assert_allclose(axis, -axis[::-1], atol=1e-12)


def test_grid_points_read_like_the_seed_grid():
    points = generate.grid_points(3, extent=1.0)
    # top-left cell is (smallest z1, largest z2), as the seed tutorial plotted it
    np.testing.assert_array_equal(points[0], [-1, 1])
    np.testing.assert_array_equal(points[2], [1, 1])
    np.testing.assert_array_equal(points[-1], [1, -1])


def test_perf_guard_latent_grid_decodes_in_one_batched_call():
    """Counts decode calls on purpose: one call per cell instead of one for the grid is many times slower."""
    model = VAE(hidden=(8,))
    calls = []
    decode = model.decode
    model.decode = lambda z: calls.append(len(z)) or decode(z)
    image = generate.latent_grid(model, n=5)
    assert image.shape == (140, 140) and calls == [25]
    np.testing.assert_allclose(image[:28, :28], decode(generate.grid_points(5)[:1]).reshape(28, 28), atol=1e-6)


def test_interpolate_starts_and_ends_at_the_endpoints():
    model = VAE(hidden=(8,))
    path = generate.interpolate(model, [-2, 0], [2, 1], steps=7)
    assert path.shape == (7, 784)
    np.testing.assert_allclose(path[0], model.decode([[-2, 0]])[0], atol=1e-6)
    np.testing.assert_allclose(path[-1], model.decode([[2, 1]])[0], atol=1e-6)


def test_reconstruct_uses_the_mean_code():
    model = VAE(hidden=(8,))
    x = np.random.default_rng(0).uniform(size=(4, 784)).astype(np.float32)
    z_mean, _ = model.encode(x)
    np.testing.assert_array_equal(generate.reconstruct(model, x), model.decode(z_mean))


def test_png_is_upscaled_with_crisp_pixels():
    image = np.zeros((28, 28), np.float32)
    image[3, 5] = 1.0
    png = Image.open(bytes_io.BytesIO(generate.to_png(image, scale=10)))
    pixels = np.asarray(png)
    assert png.size == (280, 280) and png.mode == "L"
    assert set(np.unique(pixels)) == {0, 255}  # nearest neighbour: no blur
    assert pixels[30:40, 50:60].min() == 255
