"""vae.limits is the one home of every limit: what repeats it elsewhere must agree with it."""

import tomllib
from PIL import Image

from tests.helpers import ROOT
from vae import jobs, limits


def test_streamlit_refuses_uploads_at_the_same_size_the_server_checks():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["maxUploadSize"] == limits.MAX_UPLOAD_MB
    assert limits.MAX_UPLOAD_BYTES == limits.MAX_UPLOAD_MB * 1024 * 1024


def test_every_upload_format_is_one_pillow_reads_and_the_extensions_name_them():
    Image.init()  # Pillow registers its plugins lazily
    for name in limits.UPLOAD_FORMATS:
        assert name in Image.OPEN, name
    extensions = {ext for ext, name in Image.registered_extensions().items() if name in limits.UPLOAD_FORMATS}
    assert {f".{ext}" for ext in limits.UPLOAD_EXTENSIONS} <= extensions


def test_the_server_checks_a_retrain_against_the_same_ranges_the_widgets_offer():
    low, high = int(limits.RETRAIN_EPOCHS.low), int(limits.RETRAIN_EPOCHS.high)
    assert jobs.check_settings(1.0, high, None)["epochs"] == high
    for epochs in (low - 1, high + 1):
        try:
            jobs.check_settings(1.0, epochs, None)
        except jobs.JobError:
            continue
        raise AssertionError(f"{epochs} epochs accepted")
    assert limits.RETRAIN_DEFAULT_EPOCHS in limits.RETRAIN_EPOCHS and high <= limits.MAX_EPOCHS
