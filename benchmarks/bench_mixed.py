"""Benchmark ``mixed_model`` against ``lmerTest::lmer`` + ``summary`` in one run.

Data: 20,000 observations in 400 teams (seeded), ``score ~ wave * level`` with
``(1 | team)`` and ``(1 + wave | team)``.  Both sides time the fit including
Satterthwaite df (Python: ``mixed_model``; R: ``lmer`` + ``summary``), after the
data are in memory; each is repeated and the median and minimum are reported.
The run also reports the largest relative difference between the two results.
R is skipped when ``Rscript`` is missing.

Run:  ``.venv/bin/python benchmarks/bench_mixed.py``  (writes
``benchmarks/results/mixed.json``).
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ipo_research.analysis import mixed_model

RESULTS = Path(__file__).resolve().parent / "results" / "mixed.json"
FORMULAS = {
    "intercept": "score ~ wave * level + (1 | team)",
    "slope": "score ~ wave * level + (1 + wave | team)",
}
REPEATS = 7

R_SCRIPT = r"""
suppressPackageStartupMessages({library(lme4); library(lmerTest); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1], stringsAsFactors = TRUE)
formulas <- fromJSON(args[2])
repeats <- as.integer(args[3])
out <- list()
for (name in names(formulas)) {
  f <- as.formula(formulas[[name]])
  times <- numeric(repeats)
  for (i in seq_len(repeats)) {
    t0 <- proc.time()[["elapsed"]]
    fit <- lmerTest::lmer(f, data = d)
    s <- summary(fit)
    times[i] <- proc.time()[["elapsed"]] - t0
  }
  cf <- s$coefficients
  vc <- as.data.frame(VarCorr(fit))
  out[[name]] <- list(
    times = times, term = rownames(cf), estimate = unname(cf[, "Estimate"]),
    se = unname(cf[, "Std. Error"]), df = unname(cf[, "df"]),
    variance = vc$vcov[is.na(vc$var2)]
  )
}
write_json(out, args[4], digits = NA, auto_unbox = FALSE)
"""


def make_data(n_obs: int = 20_000, n_teams: int = 400, seed: int = 2024) -> pd.DataFrame:
    """Seeded data: unbalanced teams, pre/post, mbo/hbo, random intercepts and slopes."""
    rng = np.random.default_rng(seed)
    sizes = rng.multinomial(n_obs - 10 * n_teams, np.full(n_teams, 1 / n_teams)) + 10
    team = np.repeat(np.arange(n_teams), sizes)
    post = rng.random(n_obs) < 0.5
    hbo = rng.random(n_obs) < 0.4
    u0 = rng.normal(0, 0.5, n_teams)[team]
    u1 = rng.normal(0, 0.3, n_teams)[team]
    score = 3 + 0.3 * post + 0.2 * hbo + 0.1 * post * hbo + u0 + u1 * post
    score = score + rng.normal(0, 0.8, n_obs)
    return pd.DataFrame(
        {
            "team": [f"t{t:03d}" for t in team],
            "wave": np.where(post, "post", "pre"),
            "level": np.where(hbo, "hbo", "mbo"),
            "score": score,
        }
    )


def time_python(data: pd.DataFrame) -> dict[str, Any]:
    """Time ``mixed_model`` for each formula."""
    out: dict[str, Any] = {}
    for name, formula in FORMULAS.items():
        times = []
        for _ in range(REPEATS):
            start = time.perf_counter()
            fit = mixed_model(data, formula)
            times.append(time.perf_counter() - start)
        out[name] = {"times": times, "fit": fit}
    return out


def time_r(data: pd.DataFrame) -> dict[str, Any] | None:
    """Time ``lmerTest::lmer`` + ``summary`` in R, or ``None`` without Rscript."""
    rscript = shutil.which("Rscript")
    if rscript is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "data.csv"
        data.to_csv(csv, index=False)
        script = Path(tmp) / "bench.R"
        script.write_text(R_SCRIPT)
        out = Path(tmp) / "out.json"
        subprocess.run(
            [rscript, str(script), str(csv), json.dumps(FORMULAS), str(REPEATS), str(out)],
            check=True,
        )
        result: dict[str, Any] = json.loads(out.read_text())
    return result


def _rel(a: Any, b: Any) -> float:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b) / np.abs(b)))


def main() -> None:
    """Run the benchmark, print a table and write ``benchmarks/results/mixed.json``."""
    data = make_data()
    py = time_python(data)
    r = time_r(data)
    rows = []
    for name, formula in FORMULAS.items():
        fit = py[name]["fit"]
        row: dict[str, Any] = {
            "model": formula,
            "n": fit.nobs,
            "python_median_s": statistics.median(py[name]["times"]),
            "python_min_s": min(py[name]["times"]),
        }
        if r is not None:
            ref = r[name]
            variances = fit.random["variance"].to_numpy()
            row |= {
                "r_median_s": statistics.median(ref["times"]),
                "r_min_s": min(ref["times"]),
                "max_rel_diff_estimate": _rel(fit.fixed["estimate"], ref["estimate"]),
                "max_rel_diff_se": _rel(fit.fixed["se"], ref["se"]),
                "max_rel_diff_df": _rel(fit.fixed["df"], ref["df"]),
                "max_rel_diff_variance": _rel(variances, ref["variance"]),
            }
        rows.append(row)
    table = pd.DataFrame(rows).set_index("model")
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(table.T)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps({"repeats": REPEATS, "r_available": r is not None, "rows": rows}, indent=2)
    )


if __name__ == "__main__":
    main()
