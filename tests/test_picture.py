"""vae/static/picture.mjs under node: the page refuses and names what Python refuses and names.

Its formats by first bytes must be exactly vae.limits.UPLOAD_FORMATS as Pillow writes them, and its
messages the catalogue's templates filled in as Python's str.format fills them, in both languages.
(Decoding itself needs a browser: tests/e2e/test_browser.py opens every format on the pad.)
"""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.helpers import ROOT, draw_digit, image_bytes
from vae.drawpad import PICTURE_MESSAGES
from vae.limits import UPLOAD_FORMATS
from vae.ui.i18n import catalogue

PICTURE_JS = ROOT / "vae" / "static" / "picture.mjs"
NODE_DRIVER = """
const { formatOf, fill } = await import(process.argv[1]);
const { heads, templates } = JSON.parse(process.argv[2]);
console.log(JSON.stringify({
  formats: heads.map((head) => formatOf(Uint8Array.from(head))),
  filled: templates.map(([template, values]) => fill(template, values)),
}));
"""
# Placeholder values as the page passes them: a file's size against the limit, a photo's size, a failure.
VALUES = {"mb": 5.6123, "limit": 5.24288, "width": 4032, "height": 3024, "kind": "PNG: EncodingError", "mode": "I;16"}


def run_page(node: str, heads: list[bytes], templates: list[tuple[str, dict]]) -> dict:
    arg = json.dumps({"heads": [list(head[:12]) for head in heads], "templates": templates})
    command = [node, "--input-type=module", "-e", NODE_DRIVER, PICTURE_JS.as_uri(), arg]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_the_page_knows_each_upload_format_by_its_first_bytes_and_nothing_else(node):
    pictures = {name: image_bytes(draw_digit(), name) for name in UPLOAD_FORMATS}
    others = {
        "TIFF": image_bytes(draw_digit(), "TIFF"),
        "RIFF but not WebP (a WAV)": b"RIFF\x24\x00\x00\x00WAVEfmt ",
        "text": b"these are lecture notes",
        "PNG cut short": pictures["PNG"][:5],
        "empty": b"",
    }
    found = run_page(node, [*pictures.values(), *others.values()], [])["formats"]
    assert found == [*pictures, *[None] * len(others)]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_page_fills_in_each_message_as_python_formats_it(node, lang):
    templates = [catalogue(lang)[f"errors.{key}"] for key in PICTURE_MESSAGES]
    filled = run_page(node, [], [(template, VALUES) for template in templates])["filled"]
    assert filled == [template.format(**VALUES) for template in templates]
    assert any("5.6" in text and "5 MB" in text for text in filled)  # a placeholder with a format spec was met
