"""Benchmark: the synthetic demo generator (``ipo-research synth``), first run and re-run.

Times, at the demo's default settings (seed 2024, scale 1.0), best of ``--repeat``:
``generate`` (in memory), ``render_files`` (bytes of every file), a first ``write_demo`` into an
empty folder, and the second ``write_demo`` that finds the manifest and returns (what
``make demo`` does when run again).  Wall-clock and CPU seconds side by side, because the
machine may be shared.  Prints a small table and writes ``benchmarks/results/synth.json``.

Run: ``.venv/bin/python benchmarks/bench_synth.py [--scale 1.0] [--repeat 3]``
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ipo_research.io import write_json
from ipo_research.synth import generate, render_files, write_demo

RESULTS = Path(__file__).resolve().parent / "results" / "synth.json"


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    """Best wall and best CPU seconds of ``repeat`` calls, and the last result."""
    wall, cpu, out = float("inf"), float("inf"), None
    for _ in range(repeat):
        w, c = time.perf_counter(), time.process_time()
        out = fn()
        wall = min(wall, time.perf_counter() - w)
        cpu = min(cpu, time.process_time() - c)
    return wall, cpu, out


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    seed = 2024
    generate(seed=seed, scale=0.05)  # warm imports (pandas, openpyxl, pyreadstat)
    render_files(generate(seed=seed, scale=0.05))
    rows: dict[str, tuple[float, float]] = {}
    w, c, cohort = timed(lambda: generate(seed=seed, scale=args.scale), args.repeat)
    rows["generate (in memory)"] = (w, c)
    w, c, files = timed(lambda: render_files(cohort), args.repeat)
    rows["render_files (all bytes)"] = (w, c)
    with tempfile.TemporaryDirectory() as tmp:
        counter = iter(range(10_000))
        w, c, _ = timed(lambda: write_demo(Path(tmp) / f"d{next(counter)}", seed=seed,
                                           scale=args.scale), args.repeat)
        rows["write_demo, first run"] = (w, c)
        w, c, _ = timed(lambda: write_demo(Path(tmp) / "d0", seed=seed, scale=args.scale),
                        args.repeat)
        rows["write_demo, second run"] = (w, c)
    survey_rows = sum(int(m["rows"]) for m in cohort.truth.messiness.values())
    size_mb = sum(len(b) for b in files.values()) / 1e6
    print(f"{'step (scale ' + str(args.scale) + ')':<28}{'wall s':>9}{'cpu s':>9}")
    for name, (w, c) in rows.items():
        print(f"{name:<28}{w:>9.3f}{c:>9.3f}")
    first, second = rows["write_demo, first run"][0], rows["write_demo, second run"][0]
    print(f"{len(files)} files, {size_mb:.1f} MB, {survey_rows} survey rows, "
          f"{len(cohort.students)} students; re-run is {first / second:.0f}x faster")
    result: dict[str, object] = {
        "seed": seed, "scale": args.scale, "repeat": args.repeat,
        "steps": {k: {"wall_s": round(w, 3), "cpu_s": round(c, 3)} for k, (w, c) in rows.items()},
        "files": len(files) + 1, "megabytes": round(size_mb, 2), "survey_rows": survey_rows,
        "students": len(cohort.students),
        "leerteam_students": int((cohort.students["Leerteam"] != "").sum()),
        "python": platform.python_version(), "machine": platform.machine(),
    }
    write_json(result, RESULTS)
    return result


if __name__ == "__main__":
    main()
