"""Benchmark: ``reliability`` against ``psych::alpha`` on 200,000 x 20 items, in one run.

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_reliability.py [--rows 200000] [--items 20] [--repeat 3]

Two data sets of the same size are timed: complete data, and data with 3% of the answers
missing (pairwise covariances).  Python times ``reliability(...)`` (alpha, Feldt CI, item
statistics, and also omega total and omega-if-deleted, which psych::alpha does not compute);
R times ``psych::alpha(x)`` on the same CSV after reading it (reading is not timed on either
side).  Alpha from both sides is printed to show they computed the same thing.  R is skipped
with a note when ``Rscript`` is not installed.  Results go to ``benchmarks/results/reliability.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from ipo_research.analysis import reliability

RESULTS = Path(__file__).resolve().parent / "results" / "reliability.json"

R_CODE = r"""
suppressPackageStartupMessages(library(psych))
args <- commandArgs(trailingOnly = TRUE)
x <- read.csv(args[1])
repeat_n <- as.integer(args[2])
times <- numeric(repeat_n)
for (i in seq_len(repeat_n)) {
  times[i] <- system.time(a <- alpha(x, warnings = FALSE))[["elapsed"]]
}
cat(sprintf("%.17g", a$total$raw_alpha), paste(sprintf("%.6f", times), collapse = ","), "\n")
"""


def make_data(rows: int, items: int, missing_share: float, seed: int) -> pd.DataFrame:
    """Seeded Likert (1-5) data with one common factor and optional missing answers."""
    rng = np.random.default_rng(seed)
    latent = rng.normal(size=(rows, 1))
    raw = 3 + latent * rng.uniform(0.5, 1.0, size=items) + rng.normal(size=(rows, items))
    values = np.clip(np.round(raw), 1, 5)
    if missing_share > 0:
        values[rng.random(values.shape) < missing_share] = np.nan
    return pd.DataFrame(values, columns=[f"q{i + 1}" for i in range(items)])


def time_python(data: pd.DataFrame, repeat: int) -> tuple[float, list[float]]:
    """Return alpha and the wall times of ``repeat`` calls of :func:`reliability`."""
    times = []
    alpha = float("nan")
    for _ in range(repeat):
        start = time.perf_counter()
        res = reliability(data, list(data.columns))
        times.append(time.perf_counter() - start)
        alpha = float(res.summary["alpha"].iloc[0])
    return alpha, times


def time_r(csv: Path, repeat: int) -> tuple[float, list[float]] | None:
    """Return alpha and the elapsed times of ``psych::alpha``, or ``None`` without Rscript."""
    rscript = shutil.which("Rscript")
    if rscript is None:
        return None
    with tempfile.NamedTemporaryFile("w", suffix=".R", delete=False) as handle:
        handle.write(R_CODE)
        script = handle.name
    try:
        out = subprocess.run(
            [rscript, script, str(csv), str(repeat)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()
    finally:
        Path(script).unlink(missing_ok=True)
    return float(out[0]), [float(t) for t in out[1].split(",")]


def main(argv: list[str] | None = None) -> dict[str, object]:
    """Run the benchmark, print a side-by-side table and write the JSON results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    cases = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, share in [("complete", 0.0), ("3% missing", 0.03)]:
            data = make_data(args.rows, args.items, share, seed=2024)
            csv = Path(tmp) / "items.csv"
            data.to_csv(csv, index=False, na_rep="NA")
            py_alpha, py_times = time_python(data, args.repeat)
            r = time_r(csv, args.repeat)
            cases.append(
                {
                    "data": label,
                    "rows": args.rows,
                    "items": args.items,
                    "python_s": float(np.median(py_times)),
                    "python_times_s": py_times,
                    "python_alpha": py_alpha,
                    "r_s": None if r is None else float(np.median(r[1])),
                    "r_times_s": None if r is None else r[1],
                    "r_alpha": None if r is None else r[0],
                }
            )

    print(
        f"reliability vs psych::alpha, {args.rows:,} rows x {args.items} items, median of {args.repeat}"
    )
    print(
        f"{'data':<12} {'python (s)':>11} {'R psych (s)':>12} {'speed-up':>9} {'|alpha diff|':>13}"
    )
    for case in cases:
        r_s = case["r_s"]
        if r_s is None:
            print(
                f"{case['data']:<12} {case['python_s']:>11.3f} {'skipped':>12} {'-':>9} {'-':>13}"
            )
            continue
        diff = abs(float(case["python_alpha"]) - float(case["r_alpha"]))
        speed = float(r_s) / float(case["python_s"])
        print(
            f"{case['data']:<12} {case['python_s']:>11.3f} {float(r_s):>12.3f} {speed:>8.1f}x {diff:>13.2e}"
        )
    if shutil.which("Rscript") is None:
        print("Rscript not found: R side skipped")

    result: dict[str, object] = {
        "benchmark": "reliability",
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cases": cases,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    main()
