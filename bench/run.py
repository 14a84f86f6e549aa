"""Runs the benchmarks under bench/: every `bench_*.py`, or the one named on the command line.

Each benchmark measures against its baseline in one run and ends with one line
`BENCH <name> <metric>=<value> ... target=<target> PASS|FAIL`; this runner exits non-zero
if any says FAIL.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    name = argv[0] if argv else ""
    scripts = sorted(BENCH_DIR.glob("bench_*.py"))
    if name:
        scripts = [s for s in scripts if s.stem == f"bench_{name}"]
        if not scripts:
            print(f"No benchmark named {name!r} (looked for bench/bench_{name}.py).")
            return 2
    if not scripts:
        print("No benchmarks yet: no issue has named a speed or memory target.")
        return 0
    failed = False
    for script in scripts:
        result = subprocess.run(  # noqa: S603 - runs the project's own scripts
            [sys.executable, str(script)], capture_output=True, text=True, check=False
        )
        sys.stdout.write(result.stdout)
        sys.stderr.write(result.stderr)
        last = result.stdout.strip().splitlines()[-1:] or [""]
        if result.returncode != 0 or not last[0].endswith("PASS"):
            failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
