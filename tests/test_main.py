"""python -m vae: the export and overview subcommands, and their help."""

import subprocess
import sys

from PIL import Image

from tests.helpers import make_run
from vae import io
from vae.__main__ import main


def test_export_then_overview_of_the_exported_run(tmp_path, capsys):
    run_dir = make_run(tmp_path / "run")
    assert main(["export", str(run_dir), str(tmp_path / "exported")]) == 0
    assert io.load_run(tmp_path / "exported", compile=False).model_file == "model.keras"
    assert main(["overview", str(tmp_path / "exported"), str(tmp_path / "overview.png")]) == 0
    assert Image.open(tmp_path / "overview.png").size[0] > Image.open(tmp_path / "overview.png").size[1] > 0
    assert capsys.readouterr().out.split() == [str(tmp_path / "exported"), str(tmp_path / "overview.png")]


def test_help_names_both_subcommands_and_a_wrong_one_is_refused():
    result = subprocess.run([sys.executable, "-m", "vae", "--help"], capture_output=True, text=True)
    assert result.returncode == 0 and "export" in result.stdout and "overview" in result.stdout
    result = subprocess.run([sys.executable, "-m", "vae", "publish"], capture_output=True, text=True)
    assert result.returncode == 2 and "invalid choice" in result.stderr
