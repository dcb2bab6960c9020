"""What open but idle pages cost the server: CPU share and WebSocket traffic per page.

    python tests/stress/idle_pages.py [--pages 3] [--seconds 20]

Opens --pages sessions of `streamlit run app.py` (one Chromium, a context each), waits
until each has drawn its digit, lets them sit for 5 s, then for --seconds counts the
server's CPU time (its whole process tree, tests.appserver.cpu_seconds) and each page's
WebSocket frames. An idle explorer page should cost next to nothing: the job polling
lives on the training page. A per-page cost here is what made many sessions at once fail
before (benchmarks/README.md has the figures).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run as a script: vae and tests.* from the checkout

from playwright.sync_api import sync_playwright  # noqa: E402

from benchmarks._browser import DIGIT_READY_JS  # noqa: E402
from tests.appserver import AppServer, launch_chromium  # noqa: E402
from tests.helpers import find_run  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run", help="run directory (default: the default pretrained run)")
    p.add_argument("--pages", type=int, default=3)
    p.add_argument("--seconds", type=float, default=20.0)
    args = p.parse_args()

    with AppServer(run_dir=find_run(args.run)) as server, sync_playwright() as pw:
        browser = launch_chromium(pw)
        traffic = []
        for _ in range(args.pages):
            page = browser.new_context().new_page()
            counts = {"received": 0, "bytes": 0, "sent": 0}

            def on_websocket(ws, counts=counts) -> None:
                def received(payload, counts=counts) -> None:
                    counts["received"] += 1
                    counts["bytes"] += len(payload)

                ws.on("framereceived", received)
                ws.on("framesent", lambda _, counts=counts: counts.__setitem__("sent", counts["sent"] + 1))

            page.on("websocket", on_websocket)
            page.goto(server.url)
            page.wait_for_function(DIGIT_READY_JS, timeout=180_000)
            traffic.append(counts)
        page.wait_for_timeout(5000)
        for counts in traffic:
            counts.update(received=0, bytes=0, sent=0)
        cpu, started = server.cpu_seconds(), time.perf_counter()
        page.wait_for_timeout(args.seconds * 1000)  # keeps Playwright's event loop delivering frames
        used = server.cpu_seconds() - cpu
        elapsed = time.perf_counter() - started
        browser.close()

    print(
        f"{args.pages} idle pages for {elapsed:.0f} s: the server used {used:.2f} CPU s = {used / elapsed:.1%} of a core"
    )
    for number, counts in enumerate(traffic):
        print(f"  page {number}: sent {counts['sent']}, received {counts['received']} ({counts['bytes']:,} bytes)")
    print(f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
