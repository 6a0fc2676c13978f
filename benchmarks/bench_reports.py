"""Benchmark: ``ipo-research reports build --force`` against papermill + nbconvert CLIs.

Both sides build the same plan of ``--reports`` (default 40) small reports from the test
template ``tests/fixtures/notebooks/basic.ipynb`` (reads a CSV, prints statistics, draws a
histogram, shows a table) in a fresh temporary project, in the same run:

* baseline: a sequential loop of ``papermill IN OUT -p ...`` and
  ``jupyter nbconvert --to html --no-input OUT`` per report (a new kernel and a new
  nbconvert process each time, as a shell loop would do);
* ours: ``ipo-research reports build PLAN --force`` (warm kernels, all cores).

Then an unchanged plan of ``--recheck`` (default 100) reports, built once, is re-checked
with ``ipo-research reports build`` (nothing to do): the whole command is timed.
Prints a table and writes ``benchmarks/results/reports.json``.

Run: ``.venv/bin/python benchmarks/bench_reports.py [--reports 40] [--recheck 100]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "reports.json"
TEMPLATE = ROOT / "tests" / "fixtures" / "notebooks" / "basic.ipynb"
BIN = Path(sys.executable).parent
REGIONS = ("Zwolle", "Deventer")

PLAN = """title: Benchmark
templates:
  basic:
    path: notebooks/basic.ipynb
    title: "Regio {{region}} (min_n {{min_n}})"
    inputs: [data/scores.csv]
    params:
      region: {{type: str, choices: [Zwolle, Deventer]}}
      min_n: {{type: int}}
      lang: {{type: str, default: nl}}
reports:
  - template: basic
    grid:
      region: [Zwolle, Deventer]
      min_n: {min_n}
    output: "regio/{{region}}-{{min_n}}.html"
"""


def make_project(root: Path, reports: int, seed: int = 2024) -> Path:
    """Write the template, a seeded dataset and a plan of ``reports`` reports."""
    (root / "notebooks").mkdir(parents=True)
    shutil.copy(TEMPLATE, root / "notebooks" / "basic.ipynb")
    (root / "data").mkdir()
    rng = np.random.default_rng(seed)
    pd.DataFrame({"region": rng.choice(REGIONS, 600),
                  "score": rng.normal(3.5, 0.6, 600).round(2)}).to_csv(
        root / "data" / "scores.csv", index=False)
    per_region = -(-reports // len(REGIONS))
    plan = root / "plan.yaml"
    plan.write_text(PLAN.format(min_n=list(range(1, per_region + 1))), encoding="utf-8")
    return plan


def kernel_env() -> dict[str, str]:
    """Environment of both sides: figures inline in the kernel (no ``MPLBACKEND=Agg``)."""
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    env["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
    return env


def run(cmd: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, env=kernel_env(), check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def baseline(root: Path, plan: Path) -> float:
    """Sequential papermill + nbconvert CLI loop over the plan's reports."""
    listing = json.loads(subprocess.run(
        [str(BIN / "ipo-research"), "reports", "plan", str(plan), "--json"],
        check=True, capture_output=True, text=True).stdout)
    out = root / "baseline"
    start = time.perf_counter()
    for report in listing["reports"]:
        executed = out / f"{report['id']}.ipynb"
        executed.parent.mkdir(parents=True, exist_ok=True)
        params = [a for k, v in report["parameters"].items() for a in ("-p", k, str(v))]
        subprocess.run([str(BIN / "papermill"), "--no-progress-bar", "--cwd",
                        str(root / "notebooks"), str(root / report["template_path"]),
                        str(executed), *params],
                       cwd=root, env=kernel_env(), check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        subprocess.run([str(BIN / "jupyter"), "nbconvert", "--to", "html", "--no-input",
                        str(executed)], cwd=root, env=kernel_env(), check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> dict[str, object]:
    """Run the benchmark, print the table and write the JSON results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=40)
    parser.add_argument("--recheck", type=int, default=100)
    args = parser.parse_args(argv)
    cli = str(BIN / "ipo-research")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "speed"
        plan = make_project(root, args.reports)
        n = len(json.loads(subprocess.run([cli, "reports", "plan", str(plan), "--json"],
                                          check=True, capture_output=True,
                                          text=True).stdout)["reports"])
        t_ours = run([cli, "reports", "build", str(plan), "--force", "--no-progress"], root)
        pages = len(list((root / "reports").rglob("*.html"))) - 1
        t_base = baseline(root, plan)

        big = Path(tmp) / "recheck"
        big_plan = make_project(big, args.recheck)
        t_first = run([cli, "reports", "build", str(big_plan), "--no-progress"], big)
        t_recheck = min(run([cli, "reports", "build", str(big_plan), "--no-progress"], big)
                        for _ in range(3))
        n_big = len(list((big / "reports").rglob("*.html"))) - 1

    result: dict[str, object] = {
        "reports": n, "pages_written": pages,
        "baseline_papermill_nbconvert_s": round(t_base, 2),
        "ipo_research_build_force_s": round(t_ours, 2),
        "ratio": round(t_ours / t_base, 3),
        "bar_ratio": 0.25,
        "recheck_reports": n_big, "recheck_first_build_s": round(t_first, 2),
        "recheck_unchanged_s": round(t_recheck, 3), "bar_recheck_s": 2.0,
        "cpu_count": os.cpu_count(), "python": platform.python_version(),
        "load_average_1min": round(os.getloadavg()[0], 2),
    }
    print(f"{'build of ' + str(n) + ' reports':<44}{'seconds':>10}")
    print(f"{'papermill + nbconvert CLI, sequential':<44}{t_base:>10.1f}")
    print(f"{'ipo-research reports build --force':<44}{t_ours:>10.1f}")
    print(f"{'ratio (bar <= 0.25)':<44}{t_ours / t_base:>10.3f}")
    print(f"{'unchanged plan of ' + str(n_big) + ', re-check (bar < 2 s)':<44}{t_recheck:>10.2f}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return result


if __name__ == "__main__":
    main()
