"""Every limit and fixed setting in one place: train.py, the job runner, the app and the board import them.

A limit checked in the page is only a convenience; the server checks again with these same
numbers (vae.jobs for retrains, vae.board for submissions). A picture opened on the drawing pad is
the exception: the page checks it and the server never receives the file, only its 28x28, which
vae.drawpad checks as it checks a drawing; vae.images applies the same limits to files on the
command line (vae.foreign, benchmarks).
"""

from __future__ import annotations

from dataclasses import dataclass

# ------------------------------------------------------------------ training (train.py and app retrains)

MAX_EPOCHS = 200  # train.py --epochs
MAX_LATENT_DIM = 64  # train.py --latent-dim


@dataclass(frozen=True)
class Range:
    low: float
    high: float

    def __contains__(self, value: float) -> bool:
        return self.low <= value <= self.high


# What a retrain started from the app may ask for (any session may press Train, so these are
# checked on the server, in vae.jobs, not only by the widgets).
RETRAIN_EPOCHS = Range(1, 50)
RETRAIN_KL_WEIGHT = Range(1e-4, 10.0)
RETRAIN_SUBSET = Range(100, 60_000)
RETRAIN_DEFAULT_EPOCHS = 10
# A train.py waiting for the next retrain (vae.standby) holds TensorFlow's memory: it leaves after this long unused.
STANDBY_IDLE_SECONDS = 30 * 60


@dataclass(frozen=True)
class RetrainRecipe:
    """Batch size and learning rate of an app retrain (vae.jobs passes them to train.py; the panel states them)."""

    batch_size: int
    lr: float


# All 60,000 images: batch 250 divides 60,000 (one XLA compile, no short last batch) and needs fewer CPU
# seconds per epoch than train.py's default 128 at no cost in test ELBO (benchmarks/batch_elbo.py).
FULL_DATA_RETRAIN = RetrainRecipe(batch_size=250, lr=0.002)
# A subset, the quick retrain: small batches at a higher rate take more steps per image seen, so that the
# default epochs on 10,000 images draw most digits clearly at every KL preset, where train.py's defaults
# draw a few (benchmarks/batch_elbo.py --subset 10000; benchmarks/README.md). 50 divides the subsets offered.
QUICK_RETRAIN = RetrainRecipe(batch_size=50, lr=0.003)
# With "use the labels" on (the default), a retrain's label head weighs what the shipped runs' does, so that a
# retrain and the shipped runs differ in kl_weight, not in labels (tests/test_pretrained.py checks they agree).
RETRAIN_LABEL_WEIGHT = 50.0

# ------------------------------------------------------------------ pictures (the drawing pad's page, vae.images)

MAX_UPLOAD_MB = 5  # also .streamlit/config.toml's server.maxUploadSize (tests/test_limits.py checks they agree)
MAX_UPLOAD_BYTES = MAX_UPLOAD_MB * 1024 * 1024
UPLOAD_FORMATS = ("PNG", "JPEG", "BMP", "WEBP", "GIF")  # no other decoder, Pillow's or the browser's, sees a file
UPLOAD_EXTENSIONS = ("png", "jpg", "jpeg", "bmp", "webp", "gif")
MAX_UPLOAD_PIXELS = 12_000_000  # decompression bombs: refuse before decoding

# ------------------------------------------------------------------ the latent plane

Z_LIMIT = 4.0  # slider and grid range: +/-4 prior standard deviations holds nearly all of N(0, 1)
BOUND_SAMPLES = Range(1, 10_000)  # vae.digit_bound's k: IWAE draws for one digit, decoded in one request
POSTERIOR_GRID_SIDE = Range(2, 300)  # vae.exact_posterior's n: n * n decodes for one picture

# ------------------------------------------------------------------ the class board (vae.board)

BOARD_MIN_SECONDS_BETWEEN = 2.0  # per session: one submission every 2 s
BOARD_MAX_PER_SESSION = 20  # per session and board
BOARD_MAX_SUBMISSIONS = 5_000  # per board
BOARD_POLL_SECONDS = 0.5  # the board page asks the store this often: a submission shows within 2 s (board_load.py)
