"""The class board's map: the test codes' picture matches the axes, stray codes do not shrink the map, and a digit
sent far out stays on it."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from vae.generate import DIGIT_COLOURS
from vae.limits import Z_LIMIT
from vae.ui import board_figure


def rgb(colour: str) -> tuple[int, int, int]:
    return tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))


def test_the_picture_puts_each_code_where_the_axes_put_it():
    means = np.array([[3.0, 3.0], [-3.0, -3.0]])
    picture = Image.open(io.BytesIO(board_figure.codes_picture(means, np.array([2, 5]), extent=4.0, side=400)))
    pixels = np.asarray(picture.convert("RGBA"))
    # z = (3, 3): 7/8 of the way right and 1/8 of the way down (z2 grows upwards); z = (-3, -3) the opposite
    assert tuple(pixels[50, 350, :3]) == rgb(DIGIT_COLOURS[2]) and pixels[50, 350, 3] == 255
    assert tuple(pixels[350, 50, :3]) == rgb(DIGIT_COLOURS[5])
    assert pixels[200, 200, 3] == 0  # nothing where no code is: the chart's grid shows through


def test_a_few_stray_codes_do_not_widen_the_map_but_the_slider_range_is_the_least():
    rng = np.random.default_rng(0)
    means = np.vstack([rng.normal(0, 1.6, (9_990, 2)), np.full((10, 2), 40.0)])
    assert board_figure.test_extent(means) < 10
    assert board_figure.test_extent(np.zeros((5, 2))) == Z_LIMIT


def test_a_digit_sent_far_out_widens_the_axes_and_carries_its_id():
    fig = board_figure.board_figure({"mean": np.zeros((20, 2)), "labels": np.arange(20) % 10}, extent=4.0)
    far = np.array([[9.0, -1.0], [0.5, 0.5]], np.float32)
    board_figure.place_submissions(fig, far, np.array([3, 8]), np.array([11, 12]), picked=12, extent=4.0)
    assert fig.layout.xaxis.range[1] >= 9.0 and fig.layout.yaxis.range[0] <= -9.0
    trace = fig.data[board_figure.trace_number(fig, "submissions")]
    assert list(trace.customdata) == [11, 12] and list(trace.marker.color) == [DIGIT_COLOURS[3], DIGIT_COLOURS[8]]
    ring = fig.data[board_figure.trace_number(fig, "board_pick")]
    assert (ring.x[0], ring.y[0]) == (0.5, 0.5)
    board_figure.place_submissions(fig, far[:0], np.array([]), np.array([]), picked=None, extent=4.0)
    assert fig.layout.xaxis.range[1] < 9.0  # an emptied board: back to the test codes' range
    assert len(fig.data[board_figure.trace_number(fig, "board_pick")].x) == 0
