"""Digits decoded per second in the page while a Playwright mouse drags the latent pad. Target: >= 30 frames/s.

    python -m benchmarks.drag_fps [--run RUN_DIR] [--seconds 3]

Serves benchmarks/pad_page.py (the pad alone), drags the point around a circle in small
steps and reads the page's own counters (window.__padStats, kept by vae/static/pad.mjs):
frames decoded and drawn, and each frame's decode time. The baseline, in the same page:
the screen's refresh rate (requestAnimationFrame ticks per second with nothing to do),
the most frames any drawing could reach. Figures: benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks._browser import load_average
from tests.appserver import AppServer, launch_chromium
from tests.helpers import find_run

SHOTS = Path(tempfile.gettempdir()) / "pad-shots"


# In-page counters for the drag: screen refreshes (fewer under load than at rest) and pointer events.
COUNTERS_JS = """() => {
  window.__ticks = 0;
  window.__pointerMoves = 0;
  const tick = () => { window.__ticks++; requestAnimationFrame(tick); };
  requestAnimationFrame(tick);
  window.addEventListener("pointermove", () => window.__pointerMoves++, true);
}"""
REFRESH_RATE_JS = """() => new Promise((resolve) => {
  let ticks = 0;
  const start = performance.now();
  const tick = (now) => (now - start < 1000 ? (ticks++, requestAnimationFrame(tick)) : resolve(ticks / ((now - start) / 1000)));
  requestAnimationFrame(tick);
})"""
READ_JS = "[performance.now(), __padStats.frames, __ticks, __pointerMoves, __padStats.decodeMs, __padStats.frameMs]"


async def measure(url: str, seconds: float, moves_per_second: float) -> dict:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await launch_chromium(p)
        page = await browser.new_page(viewport={"width": 1000, "height": 700})
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        await page.goto(url)
        await page.wait_for_function(
            "window.__padStats && window.__padStats.frames > 0", timeout=60_000
        )  # decoder here
        refresh_hz = await page.evaluate(REFRESH_RATE_JS)
        await page.evaluate(COUNTERS_JS)

        # Mouse events go straight to the browser's input pipeline over CDP without waiting for
        # each to be handled (page.mouse.move waits, and then the driver's pace on a busy machine
        # would be what this measures). Chromium coalesces them as it does a real mouse's.
        cdp = await page.context.new_cdp_session(page)
        box = await page.locator("canvas.plane").bounding_box()  # CSS selectors pierce the shadow root
        cx, cy, radius = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, box["width"] * 0.35

        def mouse(kind: str, x: float, y: float):
            event = {"type": kind, "x": x, "y": y, "button": "left", "buttons": 1, "clickCount": 1}
            return asyncio.ensure_future(cdp.send("Input.dispatchMouseEvent", event))

        await mouse("mousePressed", cx + radius, cy)
        t0, frames0, ticks0, pointer0, *_ = await page.evaluate(READ_JS)
        sent, started = [], time.perf_counter()
        while (elapsed := time.perf_counter() - started) < seconds:  # one lap of a circle per second
            angle = 2 * math.pi * elapsed
            sent.append(mouse("mouseMoved", cx + radius * math.cos(angle), cy + radius * math.sin(angle)))
            await asyncio.sleep(1 / moves_per_second)
        await asyncio.gather(*sent)
        t1, frames1, ticks1, pointer1, decode_ms, frame_ms = await page.evaluate(READ_JS)
        SHOTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(SHOTS / "drag.png"))

        # The released point travels to Python (on_release) and comes back in the page's caption.
        released = time.perf_counter()
        await mouse("mouseReleased", cx + radius * math.cos(angle), cy + radius * math.sin(angle))
        await page.wait_for_function(
            "() => [...document.querySelectorAll('[data-testid=stCaptionContainer]')]"
            ".some((e) => e.innerText.startsWith('released: ('))",
            timeout=30_000,
        )
        round_trip_ms = 1000 * (time.perf_counter() - released)
        await page.screenshot(path=str(SHOTS / "released.png"))
        await browser.close()

    per_second = 1000 / (t1 - t0)
    frames = frames1 - frames0
    decode = np.array(decode_ms[-frames:] if frames else [np.nan])
    frame = np.array(frame_ms[-frames:] if frames else [np.nan])
    return {
        "refresh_hz": refresh_hz,
        "refresh_dragging_hz": (ticks1 - ticks0) * per_second,
        "moves_sent_per_s": len(sent) / seconds,
        "pointer_moves_per_s": (pointer1 - pointer0) * per_second,
        "frames": frames,
        "fps": frames * per_second,
        "decode_p50": float(np.median(decode)),
        "decode_p95": float(np.percentile(decode, 95)),
        "frame_p50": float(np.median(frame)),
        "frame_p95": float(np.percentile(frame, 95)),
        "round_trip_ms": round_trip_ms,
        "errors": errors,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", help="run directory with a 2-D model (default: the default pretrained run)")
    parser.add_argument("--seconds", type=float, default=3.0, help="length of the drag")
    parser.add_argument(
        "--moves-per-second", type=float, default=250.0, help="mouse events sent (a real mouse: 60-1000)"
    )
    args = parser.parse_args()

    run_dir = find_run(args.run)
    with AppServer("benchmarks/pad_page.py", script_args=[run_dir]) as server:
        result = asyncio.run(measure(server.url, args.seconds, args.moves_per_second))

    print(f"run: {run_dir}; {load_average()}")
    print(
        f"drag: {args.seconds:.1f} s, {result['moves_sent_per_s']:.0f} mouse moves/s sent, "
        f"{result['pointer_moves_per_s']:.0f} pointermove events/s reached the page"
    )
    print(
        f"screen refreshes (baseline, the ceiling): {result['refresh_hz']:.1f}/s at rest, "
        f"{result['refresh_dragging_hz']:.1f}/s while dragging"
    )
    print(
        f"decoded while dragging: {result['fps']:.1f} frames/s ({result['frames']} frames), "
        f"{result['fps'] / result['refresh_dragging_hz']:.2f} per refresh   target >= 30: "
        f"{'met' if result['fps'] >= 30 else 'MISSED'}"
    )
    print(
        f"JS per frame: decode p50 {result['decode_p50']:.2f} ms, p95 {result['decode_p95']:.2f} ms; "
        f"decode + draw p50 {result['frame_p50']:.2f} ms, p95 {result['frame_p95']:.2f} ms"
    )
    print(f"release -> point back from Python in the page: {result['round_trip_ms']:.0f} ms")
    print(f"screenshots: {SHOTS / 'drag.png'}, {SHOTS / 'released.png'}")
    if result["errors"]:
        print("page errors:", *result["errors"], sep="\n  ")
        sys.exit(1)


if __name__ == "__main__":
    main()
