"""The explorer's map (vae.ui.figures.scatter_figure): what sits on top of the test codes, and where."""

import numpy as np
import pytest

from vae.ui import figures

OVERLAYS = ("path", "ellipse", "star", "halo", "point")


@pytest.fixture
def latents():
    rng = np.random.default_rng(0)
    return {"mean": rng.normal(size=(500, 2)).astype(np.float32), "labels": np.arange(500) % 10}


def test_the_overlays_are_webgl_after_the_codes_so_plotly_draws_them_on_top(latents):
    """plotly draws every WebGL trace above every SVG one: an SVG star or point would sit under the codes."""
    fig = figures.scatter_figure(latents, here=(0.5, 0.5), picked=3)
    kinds = [trace.type for trace in fig.data]
    assert kinds[:10] == ["scattergl"] * 10  # the codes, a trace per digit
    assert all(kind == "scattergl" for kind in kinds[10:]) and len(kinds) == 10 + 1 + len(OVERLAYS)  # + the ring
    assert [trace.meta for trace in fig.data[-len(OVERLAYS) :]] == list(OVERLAYS)  # the point last, on top


def test_the_walk_is_drawn_on_the_map_step_by_step_and_hidden_without_one(latents):
    fig = figures.scatter_figure(latents, here=(0.0, 0.0))
    path = next(trace for trace in fig.data if trace.meta == "path")
    figures.place_overlays(fig, (0.0, 0.0), None, (np.array([-1.0, 2.0]), np.array([3.0, -2.0]), 5))
    assert np.allclose(path.x, [-1, 0, 1, 2, 3]) and np.allclose(path.y, [2, 1, 0, -1, -2])
    figures.place_overlays(fig, (0.0, 0.0), None, None)
    assert len(path.x) == 0


def test_your_digit_is_a_star_with_its_one_sigma_ellipse(latents):
    fig = figures.scatter_figure(latents, star={"mean": np.array([1.0, -1.0]), "log_var": np.log([0.25, 1.0])})
    star, ellipse = (next(trace for trace in fig.data if trace.meta == meta) for meta in ("star", "ellipse"))
    assert (star.x[0], star.y[0]) == (1.0, -1.0)
    assert np.isclose(max(ellipse.x), 1.5) and np.isclose(min(ellipse.y), -2.0)  # sd 0.5 and 1


def test_placing_on_a_figure_without_the_overlays_says_so():
    with pytest.raises(ValueError, match="no 'path' trace"):
        figures.place_overlays(figures.go.Figure(), None, {"mean": np.zeros(2), "log_var": np.zeros(2)})
