"""Every nasty file and over 1,000 generated ones through the upload path, with time and memory per case.

    python tests/stress/upload_fuzz.py [--examples 400]

Each case must end in a valid 28x28 digit in [0, 1] or an ImageError (anything else is a
failure), within 1 s and 200 MB. Time is wall clock and CPU time of this process (on a busy
shared machine the CPU time is the fairer figure); memory is the peak of Python/numpy
allocations (tracemalloc) and the peak resident-set growth (Linux VmHWM, reset before each
case), which also sees Pillow's C buffers. The same-run baseline is a clean 280x280 PNG digit.
"""

from __future__ import annotations

import argparse
import sys
import time
import tracemalloc
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run as a script: vae and tests.* from the checkout

from hypothesis import HealthCheck, given, settings  # noqa: E402

from tests.helpers import digit_png  # noqa: E402
from tests.upload_files import damaged_files, image_files, nasty_corpus, random_files  # noqa: E402
from vae.images import ImageError, digit_from_upload  # noqa: E402

LIMIT_SECONDS, LIMIT_MB = 1.0, 200.0


def rss_kb(field: str) -> int:
    """VmRSS or VmHWM (the peak) of this process from Linux's /proc: psutil reads no peak it can reset."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def reset_peak_rss() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")  # Linux: VmHWM := VmRSS
        return True
    except OSError:
        return False


class Recorder:
    def __init__(self) -> None:
        self.cases: list[dict] = []

    def measure(self, name: str, data: bytes) -> None:
        can_reset = reset_peak_rss()
        rss_before = rss_kb("VmRSS")
        tracemalloc.reset_peak()
        traced_before = tracemalloc.get_traced_memory()[0]
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            digit, _, _ = digit_from_upload(data)
            valid = digit.shape == (28, 28) and np.isfinite(digit).all() and 0 <= digit.min() and digit.max() <= 1
            outcome = "digit" if valid else "INVALID DIGIT"
        except ImageError as err:
            outcome = "ImageError: " + str(err).split(":")[0].split("(")[0].split(";")[0].strip()[:60]
        except Exception as err:  # the failure this script exists to find
            outcome = f"UNEXPECTED {type(err).__name__}: {err}"[:120]
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        traced = (tracemalloc.get_traced_memory()[1] - traced_before) / 2**20
        rss = (rss_kb("VmHWM") - rss_before) / 2**10 if can_reset else float("nan")
        self.cases.append(dict(name=name, outcome=outcome, wall=wall, cpu=cpu, traced=traced, rss=rss, size=len(data)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--examples", type=int, default=400, help="generated cases per strategy (3 strategies)")
    args = parser.parse_args()
    recorder = Recorder()
    tracemalloc.start()

    baseline = digit_png(size=(280, 280), box=(60, 40, 200, 240))
    for _ in range(20):
        recorder.measure("baseline", baseline)
    for name, data in nasty_corpus().items():
        recorder.measure(name, data)

    def fuzz(strategy) -> None:
        @settings(max_examples=args.examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        @given(strategy())
        def case(data: bytes) -> None:
            recorder.measure(strategy.__name__, data)

        case()

    for strategy in (image_files, damaged_files, random_files):
        fuzz(strategy)

    base = [c for c in recorder.cases if c["name"] == "baseline"]
    cases = [c for c in recorder.cases if c["name"] != "baseline"]
    generated = [c for c in cases if c["name"] in ("image_files", "damaged_files", "random_files")]
    print(f"cases: {len(cases)} ({len(cases) - len(generated)} corpus files, {len(generated)} generated: ", end="")
    print(", ".join(f"{k} {v}" for k, v in Counter(c["name"] for c in generated).items()) + ")")
    print("outcomes:")
    for outcome, count in Counter(c["outcome"] for c in cases).most_common():
        print(f"  {count:5d}  {outcome}")
    print(f"baseline (clean 280x280 PNG, median of {len(base)}): {1e3 * np.median([c['wall'] for c in base]):.1f} ms")
    for key, unit, scale in (("wall", "ms", 1e3), ("cpu", "ms", 1e3), ("traced", "MB", 1), ("rss", "MB", 1)):
        values = np.array([c[key] for c in cases])
        worst = max(cases, key=lambda c: c[key])
        print(
            f"{key:>6}: median {scale * np.median(values):7.1f} {unit}  p99 {scale * np.quantile(values, 0.99):7.1f} {unit}"
            f"  max {scale * values.max():7.1f} {unit}  ({worst['name']}, {worst['size']} bytes: {worst['outcome'][:40]})"
        )
    unexpected = [c for c in cases if not (c["outcome"] == "digit" or c["outcome"].startswith("ImageError"))]
    over_time = [c for c in cases if c["cpu"] > LIMIT_SECONDS]
    over_time_wall = [c for c in cases if c["wall"] > LIMIT_SECONDS]
    over_memory = [c for c in cases if max(c["traced"], c["rss"]) > LIMIT_MB]
    print(f"errors other than ImageError or invalid digits: {len(unexpected)}")
    print(
        f"over {LIMIT_SECONDS:g} s CPU: {len(over_time)}  (over {LIMIT_SECONDS:g} s wall clock: {len(over_time_wall)})"
    )
    print(f"over {LIMIT_MB:g} MB: {len(over_memory)}")
    for c in unexpected + over_time + over_time_wall + over_memory:
        print(
            f"  {c['name']}: {c['outcome']}  wall {c['wall']:.2f}s cpu {c['cpu']:.2f}s  {max(c['traced'], c['rss']):.0f} MB"
        )
    return 1 if unexpected or over_time or over_memory else 0


if __name__ == "__main__":
    sys.exit(main())
