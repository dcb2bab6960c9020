"""Pictures from a trained model: latent grids, reconstructions, interpolations, PNG bytes.

Every function decodes all its points in one batched ``model.decode`` call.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from vae.config import IMAGE_SIZE


def grid_axis(n: int, spacing: str = "linspace", extent: float = 3.0) -> np.ndarray:
    """n coordinates along one latent axis, ascending.

    "linspace": evenly from -extent to +extent (the seed tutorial's grid).
    "quantile": standard-normal quantiles of linspace(0.03, 0.97, n), as in Kingma &
    Welling's figure: equal prior mass per cell, so the grid shows what the prior samples.
    """
    if spacing == "linspace":
        return np.linspace(-extent, extent, n)
    if spacing == "quantile":
        return np.array([NormalDist().inv_cdf(p) for p in np.linspace(0.03, 0.97, n)])
    raise ValueError(f"spacing must be 'linspace' or 'quantile', not {spacing!r}")


def grid_points(n: int, spacing: str = "linspace", extent: float = 3.0, latent_dim: int = 2) -> np.ndarray:
    """(n*n, latent_dim) points in reading order: top row is the largest z2, left column the smallest z1.

    For latent_dim > 2 the grid spans the first two coordinates; the rest stay at 0.
    """
    axis = grid_axis(n, spacing, extent)
    z1, z2 = np.meshgrid(axis, axis[::-1])
    points = np.zeros((n * n, latent_dim), dtype=np.float32)
    points[:, 0], points[:, 1] = z1.ravel(), z2.ravel()
    return points


def tile(images: np.ndarray, n_cols: int) -> np.ndarray:
    """(N, 784) or (N, 28, 28) -> one (rows*28, n_cols*28) image; missing cells are black."""
    images = np.asarray(images).reshape(-1, IMAGE_SIZE, IMAGE_SIZE)
    n_rows = -(-len(images) // n_cols)
    canvas = np.zeros((n_rows * IMAGE_SIZE, n_cols * IMAGE_SIZE), dtype=np.float32)
    for i, image in enumerate(images):
        r, c = divmod(i, n_cols)
        canvas[r * IMAGE_SIZE : (r + 1) * IMAGE_SIZE, c * IMAGE_SIZE : (c + 1) * IMAGE_SIZE] = image
    return canvas


def latent_grid(model, n: int = 20, spacing: str = "linspace", extent: float = 3.0) -> np.ndarray:
    """The decoded n x n grid as one (n*28, n*28) float image in [0, 1]."""
    return tile(model.decode(grid_points(n, spacing, extent, model.latent_dim)), n)


def reconstruct(model, x: np.ndarray) -> np.ndarray:
    """Decode each image's mean code: (N, 784) -> (N, 784) probabilities (no sampling noise)."""
    z_mean, _ = model.encode(x)
    return model.decode(z_mean)


def interpolate(model, z_start, z_end, steps: int = 10) -> np.ndarray:
    """Decoded images along the straight line from z_start to z_end: (steps, 784)."""
    t = np.linspace(0.0, 1.0, steps, dtype=np.float32)[:, None]
    z = (1 - t) * np.asarray(z_start, np.float32) + t * np.asarray(z_end, np.float32)
    return model.decode(z)


def sample_sheet(model, seed: int = 0, n: int = 10, n_random: int = 20) -> np.ndarray:
    """The per-epoch progress picture: an n x n quantile grid over (z1, z2), a gap, then
    n_random digits from fixed prior samples (the same z every epoch for a given seed)."""
    z_random = np.random.default_rng(seed).standard_normal((n_random, model.latent_dim)).astype(np.float32)
    grid = grid_points(n, "quantile", latent_dim=model.latent_dim)
    images = model.decode(np.concatenate([grid, z_random]))
    top, bottom = tile(images[: n * n], n), tile(images[n * n :], n)
    gap = np.full((4, top.shape[1]), 0.5, dtype=np.float32)
    return np.concatenate([top, gap, bottom])


@dataclass
class DigitMap:
    """The classifier's reading of an n x n latent grid, rows in grid_points order (top row = largest z2)."""

    labels: np.ndarray  # (n, n) int: the most likely digit in each cell
    confidence: np.ndarray  # (n, n) float: its softmax probability
    z1: np.ndarray  # (n,) ascending, the columns
    z2: np.ndarray  # (n,) descending, the rows


def latent_map(model, classifier, n: int = 20, extent: float = 3.0, spacing: str = "linspace") -> DigitMap:
    """Decode an n x n grid of latent points and let the classifier read every cell (one batch each).

    For latent_dim > 2 the grid spans the first two coordinates, the rest held at 0.
    classifier: anything with predict((N, 784)) -> (N, 10) probabilities, e.g. vae.inference.NumpyClassifier.
    """
    images = model.decode(grid_points(n, spacing, extent, model.latent_dim))
    probs = np.asarray(classifier.predict(images))
    axis = grid_axis(n, spacing, extent)
    return DigitMap(
        labels=probs.argmax(axis=1).reshape(n, n),
        confidence=probs.max(axis=1).reshape(n, n),
        z1=axis,
        z2=axis[::-1].copy(),
    )


def to_png(image: np.ndarray, scale: int = 1) -> bytes:
    """Float image in [0, 1] -> PNG bytes, upscaled by an integer factor with crisp pixels."""
    from PIL import Image

    pixels = (np.clip(image, 0.0, 1.0) * 255).round().astype(np.uint8)
    if scale > 1:
        pixels = pixels.repeat(scale, axis=0).repeat(scale, axis=1)
    buffer = io.BytesIO()
    Image.fromarray(pixels, mode="L").save(buffer, format="PNG")
    return buffer.getvalue()


# The ten class colours used everywhere (Plotly's and matplotlib's "tab10").
DIGIT_COLOURS = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
)  # fmt: skip


def scatter_image(latents: dict[str, np.ndarray], size: int = 560, extent: float = 3.0) -> np.ndarray:
    """The test set's latent means as an RGB picture (no plotting library needed), axes at +/-extent."""
    from PIL import Image, ImageDraw

    canvas = Image.new("RGB", (size, size), "white")
    draw = ImageDraw.Draw(canvas)
    draw.line([(0, size // 2), (size, size // 2)], fill="#cccccc")
    draw.line([(size // 2, 0), (size // 2, size)], fill="#cccccc")
    to_px = (size - 1) / (2 * extent)
    for (z1, z2), label in zip(latents["mean"][:, :2], latents["labels"], strict=True):
        x, y = (z1 + extent) * to_px, (extent - z2) * to_px  # z2 grows upwards, like the grid
        draw.ellipse([x - 1.5, y - 1.5, x + 1.5, y + 1.5], fill=DIGIT_COLOURS[int(label) % 10])
    for digit, colour in enumerate(DIGIT_COLOURS):  # the legend, top left
        draw.rectangle([6, 6 + 14 * digit, 16, 16 + 14 * digit], fill=colour)
        draw.text((20, 5 + 14 * digit), str(digit), fill="black")
    return np.asarray(canvas)


def overview_image(model, latents: dict[str, np.ndarray], size: int = 560, extent: float = 3.0) -> np.ndarray:
    """README picture: the linspace latent grid beside the latent scatter, same axes."""
    n = 20
    grid = latent_grid(model, n=n, spacing="linspace", extent=extent)
    grid = (np.clip(grid, 0, 1) * 255).astype(np.uint8)
    grid = np.repeat(grid, size // (n * 28), axis=0).repeat(size // (n * 28), axis=1)
    grid_rgb = np.stack([grid] * 3, axis=-1)
    scatter = scatter_image(latents, size=grid.shape[0], extent=extent)
    gap = np.full((grid.shape[0], 16, 3), 255, dtype=np.uint8)
    return np.concatenate([grid_rgb, gap, scatter], axis=1)


def axis_font(size: int):
    """A TrueType font for labels on pictures (DejaVu where installed), else Pillow's own scalable one."""
    from PIL import ImageFont

    try:
        return ImageFont.truetype("DejaVuSans.ttf", size)
    except OSError:
        return ImageFont.load_default(size)


def grid_slide_png(grid: np.ndarray, n: int, extent: float, scale: int = 4) -> bytes:
    """A decoded n x n grid for a slide: each cell upscaled by ``scale`` with crisp pixels, z1 along the
    bottom and z2 down the left, at every cell (every other one past 12 per side, so labels never touch)."""
    from PIL import Image, ImageDraw

    cell = IMAGE_SIZE * scale
    font = axis_font(max(12, cell // 5))
    margin = cell
    pixels = (np.clip(grid, 0.0, 1.0) * 255).round().astype(np.uint8).repeat(scale, axis=0).repeat(scale, axis=1)
    side = pixels.shape[0]
    page = Image.new("L", (side + margin, side + margin), 255)
    page.paste(Image.fromarray(pixels, mode="L"), (margin, 0))
    draw = ImageDraw.Draw(page)
    values = grid_axis(n, "linspace", extent)
    every = 1 if n <= 12 else 2
    for i in range(0, n, every):
        centre = i * cell + cell // 2
        draw.text((margin + centre, side + margin // 3), f"{values[i]:.1f}", fill=0, font=font, anchor="mt")
        draw.text((margin - 6, centre), f"{values[::-1][i]:.1f}", fill=0, font=font, anchor="rm")
    draw.text((margin + side // 2, side + margin - 4), "z1", fill=0, font=font, anchor="mb")
    draw.text((4, side // 2), "z2", fill=0, font=font, anchor="lm")
    buffer = io.BytesIO()
    page.save(buffer, format="PNG")
    return buffer.getvalue()


def typical_codes(means: np.ndarray, labels: np.ndarray) -> dict[int, np.ndarray]:
    """For each digit present, the code of the test image nearest that digit's median code: a typical 4,
    never an average of codes that no image has."""
    typical = {}
    for digit in np.unique(labels):
        codes = means[labels == digit]
        typical[int(digit)] = codes[np.argmin(((codes - np.median(codes, axis=0)) ** 2).sum(axis=1))]
    return typical


def strip_png(images: np.ndarray, scale: int = 4) -> bytes:
    """(N, 784) decoded images side by side, upscaled with crisp pixels: a slide-sized strip."""
    cells = np.asarray(images).reshape(-1, IMAGE_SIZE, IMAGE_SIZE)
    return to_png(np.concatenate(list(cells), axis=1), scale=scale)
