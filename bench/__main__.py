"""`make bench`: every benchmark in turn, each in its own process.

    python -m bench [--quick] [name ...]

Names: tolerance, detection, selfie_throughput, logins, matching, crowd,
metrics_overhead, photo_wakeup. Each can
also run alone: `python -m bench.<name> --help`. Ratios are computed within one
run, so a noisy machine moves both sides of each ratio together.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

BENCHMARKS = (
    "tolerance",
    "detection",
    "selfie_throughput",
    "logins",
    "matching",
    "crowd",
    "metrics_overhead",
    "photo_wakeup",
)


def arguments(name: str, quick: bool) -> list[str]:
    if name == "crowd":
        # The monolith's crowd (20), or ten times more.
        return ["--users", "20" if quick else "200"]
    return ["--quick"] if quick else []


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="each benchmark's quick mode")
    parser.add_argument("names", nargs="*", help=f"any of {', '.join(BENCHMARKS)}")
    args = parser.parse_args()
    unknown = set(args.names) - set(BENCHMARKS)
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    failed = []
    for name in args.names or BENCHMARKS:
        extra = arguments(name, args.quick)
        print(f"\n=== bench.{name} {' '.join(extra)} ===", flush=True)
        started = time.monotonic()
        result = subprocess.run([sys.executable, "-m", f"bench.{name}", *extra], check=False)
        print(f"=== bench.{name}: exit {result.returncode}, {time.monotonic() - started:.0f} s")
        if result.returncode != 0:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
