"""Benchmark: ``read_survey`` against a bare ``pandas.read_csv`` of the same file.

The survey is 1,000,000 responses x 25 items plus the context columns of a real export
(semicolon-separated, decimal comma, UTF-8 with BOM, student numbers with leading zeros).
Both readers run on the same file in the same process, alternating, best of ``--repeat``.
Prints a small table and writes ``benchmarks/results/io.json``.

Run: ``.venv/bin/python benchmarks/bench_io.py [--rows 1000000] [--repeat 3]``
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from ipo_research.io import read_survey, write_json

RESULTS = Path(__file__).resolve().parent / "results" / "io.json"
N_ITEMS = 25


def make_export(path: Path, rows: int, seed: int = 2024) -> None:
    """Write a synthetic export shaped like ``ripls_zwolle.csv`` (scaled up)."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "Studentnummer": [f"{n:07d}" for n in rng.integers(0, 9_999_999, rows)],
        "Regio": rng.choice(["Zwolle", "Deventer"], rows),
        "Niveau": rng.choice(["mbo", "hbo"], rows),
        "Meting": rng.choice(["voormeting", "nameting"], rows),
        "Duur (sec)": np.round(rng.gamma(4.0, 90.0, rows), 1),
    })
    items = rng.integers(1, 6, size=(rows, N_ITEMS)).astype(float)
    items[rng.random(items.shape) < 0.02] = np.nan
    for j in range(N_ITEMS):
        frame[f"Vraag {j + 1}"] = items[:, j]
    frame.to_csv(path, sep=";", decimal=",", index=False, encoding="utf-8-sig",
                 float_format="%.10g")


def best_of(fn: Callable[[], pd.DataFrame], repeat: int) -> tuple[float, pd.DataFrame]:
    best, out = float("inf"), pd.DataFrame()
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "survey.csv"
        start = time.perf_counter()
        make_export(path, args.rows)
        gen_s = time.perf_counter() - start
        size_mb = path.stat().st_size / 1e6

        def bare() -> pd.DataFrame:
            return pd.read_csv(path, sep=";", decimal=",", encoding="utf-8-sig")

        def ours() -> pd.DataFrame:
            return read_survey(path)

        t_bare, t_ours = float("inf"), float("inf")
        df_bare = df_ours = pd.DataFrame()
        for _ in range(args.repeat):  # alternate so both see the same cache state
            t, df_bare = best_of(bare, 1)
            t_bare = min(t_bare, t)
            t, df_ours = best_of(ours, 1)
            t_ours = min(t_ours, t)
        same_items = bool(
            np.array_equal(df_bare[[f"Vraag {j + 1}" for j in range(N_ITEMS)]].to_numpy(),
                           df_ours[[f"Vraag {j + 1}" for j in range(N_ITEMS)]].to_numpy(),
                           equal_nan=True)
        )

    ratio = t_ours / t_bare
    result: dict[str, object] = {
        "rows": args.rows,
        "items": N_ITEMS,
        "file_mb": round(size_mb, 1),
        "repeat": args.repeat,
        "pandas_read_csv_s": round(t_bare, 3),
        "read_survey_s": round(t_ours, 3),
        "ratio": round(ratio, 2),
        "limit_ratio": 3.0,
        "same_item_values": same_items,
        "student_numbers_kept_as_text": bool(df_ours["Studentnummer"].str.len().eq(7).all()),
        "generate_s": round(gen_s, 1),
        "pandas": pd.__version__,
        "python": platform.python_version(),
        "machine": platform.machine(),
    }
    print(f"{'reader':<26}{'seconds':>10}")
    print(f"{'pandas.read_csv (bare)':<26}{t_bare:>10.3f}")
    print(f"{'read_survey':<26}{t_ours:>10.3f}")
    print(f"ratio {ratio:.2f} (limit 3.0); {args.rows:,} rows x {N_ITEMS} items, {size_mb:.0f} MB; "
          f"same item values: {same_items}")
    write_json(result, RESULTS)
    return result


if __name__ == "__main__":
    main()
