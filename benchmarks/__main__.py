"""Run every benchmark in this folder, one after another: ``python -m benchmarks [NAME ...]``.

Each ``bench_<topic>.py`` prints its own side-by-side table and writes
``benchmarks/results/<topic>.json``.  Pass topic names to run only some of them.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    """Run the selected benchmarks; return the number that failed."""
    scripts = sorted(HERE.glob("bench_*.py"))
    if argv:
        scripts = [s for s in scripts if s.stem.removeprefix("bench_") in argv]
    failed = 0
    for script in scripts:
        print(f"\n=== {script.stem} ===", flush=True)
        failed += subprocess.call([sys.executable, str(script)]) != 0
    return failed


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
