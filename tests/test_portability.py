"""The app on a machine without POSIX-only modules (Windows): its first screen and a retrain start and cancel.

Each check runs in a fresh Python process whose import system refuses ``fcntl`` and ``resource``, as a
Windows Python has neither. psutil and filelock are imported before the refusal starts: their Linux
backends use those modules the way their Windows backends use the Win32 API, and what is checked is
that nothing else on the app's import path (vae.*, app.py and whatever they import) needs them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.helpers import write_fake_trainer
from vae.catalog import DEFAULT_RUN

ROOT = Path(__file__).resolve().parents[1]

REFUSE_POSIX_ONLY = """
import sys
import filelock, psutil  # platform backends, loaded as they would be on any OS (see the module docstring)

REFUSED = ("fcntl", "resource")


class RefusePosixOnly:
    def find_spec(self, name, path=None, target=None):
        if name in REFUSED:
            raise ImportError(f"No module named {name!r} (refused: Windows has no {name})", name=name)
        return None


for name in REFUSED:
    sys.modules.pop(name, None)  # psutil keeps its own reference; a new import must ask the finder
sys.meta_path.insert(0, RefusePosixOnly())
try:
    import fcntl  # noqa: F401
    raise SystemExit("the refusal does not work: fcntl imported")
except ImportError:
    pass
"""

FIRST_SCREEN = """
from streamlit.testing.v1 import AppTest

at = AppTest.from_file(APP, default_timeout=120).run()
print(json.dumps({
    "exceptions": [e.value for e in at.exception],
    "errors": [e.value for e in at.error],
    "titles": [t.value for t in at.title],
    "subheaders": [h.value for h in at.subheader],
    "picked": [box.value for box in at.selectbox],
}))
"""

START_AND_CANCEL = """
import time
from pathlib import Path
from vae import jobs

def wait_for_state(wanted, timeout=30.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        state = jobs.current(RUNS).status.get("state")
        if state in wanted:
            return state
        time.sleep(0.05)
    return jobs.current(RUNS).status.get("state")

seen = {"started": jobs.start(RUNS, kl_weight=1.0, epochs=50, script=Path(SCRIPT)).status.get("state")}
seen["running"] = wait_for_state({"running"})
seen["cancel"] = jobs.cancel(RUNS)
seen["after cancel"] = wait_for_state({"cancelled", "failed", "interrupted"})
seen["cancel again"] = jobs.cancel(RUNS)
print(json.dumps(seen))
"""


def run_without_posix_modules(body: str, env: dict[str, str], **names: str) -> dict:
    """Run ``body`` after the refusal in a fresh interpreter; its last stdout line is JSON."""
    preamble = "import json\n" + "".join(f"{name} = {value!r}\n" for name, value in names.items())
    code = REFUSE_POSIX_ONLY + preamble + textwrap.dedent(body)
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=os.environ | env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-4000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_first_screen_renders_without_fcntl_and_resource(tmp_path):
    seen = run_without_posix_modules(FIRST_SCREEN, {"VAE_RUNS_DIR": str(tmp_path / "runs")}, APP=str(ROOT / "app.py"))
    assert seen["exceptions"] == [] and seen["errors"] == []
    assert seen["titles"] and seen["titles"][0].strip()
    assert DEFAULT_RUN in seen["picked"] and seen["subheaders"]  # the shipped run opened, its panels drawn


def test_a_retrain_starts_and_cancels_without_fcntl_and_resource(tmp_path):
    script = write_fake_trainer(tmp_path / "fake_train.py")
    runs_dir = tmp_path / "runs"
    seen = run_without_posix_modules(START_AND_CANCEL, {}, RUNS=str(runs_dir), SCRIPT=str(script))
    assert seen.pop("started") in ("starting", "running")  # running once the trainer has written status.json
    assert seen == {
        "running": "running",
        "cancel": True,
        "after cancel": "cancelled",
        "cancel again": False,
    }
    [run_dir] = [p for p in runs_dir.iterdir() if p.is_dir()]
    assert json.loads((run_dir / "status.json").read_text())["state"] == "cancelled"
