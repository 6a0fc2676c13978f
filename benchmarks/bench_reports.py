"""Benchmark: ``ipo-research reports build --force`` against papermill + nbconvert CLIs.

Both sides build the same reports from the real demo notebooks
(``notebooks/01_instrument.ipynb``, ``02_change.ipynb``, ``03_leerteam.ipynb``) on the
demo data (``make demo-data``), side by side in one run:

* the plan is ``plans/demo.yaml`` with its leerteam grids limited to one cohort
  (``where: {Cohort: "2023-2024"}``; all instrument and change reports stay), written
  to a temporary folder together with every output, so the project tree is not touched;
* ours: ``ipo-research reports build PLAN --force`` (warm kernels, all cores);
* baseline: a sequential loop of ``papermill TEMPLATE OUT --cwd notebooks -p NAME VALUE ...``
  (every parameter of the report, as the engine injects them) and
  ``jupyter nbconvert --to html --no-input OUT`` per report: a new kernel and a new
  nbconvert process each time, as a shell loop would do.

The values each report records (``present.report.record``) are compared between both
sides, which shows that they ran the same notebooks with the same parameters.  Per-report
times are split into notebook cells (papermill's cell durations) and the rest (kernel
start or reset, papermill, export).  Then the unchanged plan is re-checked (``reports
build`` without ``--force``), and an unchanged plan of ``--recheck`` (default 100) tiny
reports as well.  Prints a side-by-side table and writes ``benchmarks/results/reports.json``.

Run: ``.venv/bin/python benchmarks/bench_reports.py [--cohort 2023-2024] [--limit N]
[--engine-only] [--recheck 100]`` (``--limit`` takes a subset balanced over the templates,
for quick iterations; ``--engine-only`` skips the baseline).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import nbformat
import numpy as np
import pandas as pd
import yaml

from ipo_research.present.report import read_records
from ipo_research.reports import load_plan

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "reports.json"
DEMO_PLAN = ROOT / "plans" / "demo.yaml"
DEMO_DATA = ROOT / "data" / "processed" / "demo"
TINY_TEMPLATE = ROOT / "tests" / "fixtures" / "notebooks" / "basic.ipynb"
BIN = Path(sys.executable).parent
BAR = 0.25


# ---------------------------------------------------------------------- plans
def derive_plan(folder: Path, *, cohort: str | None = "2023-2024",
                limit: int | None = None) -> Path:
    """Write the demo plan, limited to one cohort's leerteams, with outputs in ``folder``.

    Parameters
    ----------
    folder
        Temporary folder for the plan, the pages, the executed notebooks and the cache.
    cohort
        Cohort whose leerteams get a report (``None``: all leerteams, 116 reports).
    limit
        Keep only this many reports, taken in turn from each template (quick iterations).
    """
    data = yaml.safe_load(DEMO_PLAN.read_text(encoding="utf-8"))
    data["root"] = str(ROOT)
    for key, sub in (("output_dir", "reports"), ("executed_dir", "executed"),
                     ("log_dir", "logs"), ("cache", "cache/reports.json")):
        data[key] = str(folder / sub)
    if cohort is not None:
        for entry in data["reports"]:
            for spec in (entry.get("grid") or {}).values():
                if isinstance(spec, dict) and "distinct" in spec:
                    spec["distinct"]["where"] = {"Cohort": cohort}
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "plan.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    if limit is not None:
        by_template: dict[str, list[Any]] = {}
        for report in load_plan(path).reports:
            by_template.setdefault(report.template, []).append(report)
        chosen = [r for group in _round_robin(by_template.values()) for r in group][:limit]
        data["reports"] = [{"template": r.template, "cases": [dict(r.parameters)],
                            "output": r.output.as_posix()} for r in chosen]
        path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True),
                        encoding="utf-8")
    return path


def _round_robin(groups: Iterable[list[Any]]) -> list[list[Any]]:
    lists = [list(g) for g in groups]
    out = []
    for i in range(max((len(g) for g in lists), default=0)):
        out.append([g[i] for g in lists if i < len(g)])
    return out


def tiny_project(root: Path, reports: int, seed: int = 2024) -> Path:
    """A project of ``reports`` tiny reports (test template), for the re-check of a large plan."""
    (root / "notebooks").mkdir(parents=True)
    shutil.copy(TINY_TEMPLATE, root / "notebooks" / "basic.ipynb")
    (root / "data").mkdir()
    rng = np.random.default_rng(seed)
    pd.DataFrame({"region": rng.choice(["Zwolle", "Deventer"], 600),
                  "score": rng.normal(3.5, 0.6, 600).round(2)}).to_csv(
        root / "data" / "scores.csv", index=False)
    plan = {
        "title": "Benchmark",
        "templates": {"basic": {
            "path": "notebooks/basic.ipynb", "title": "Regio {region} (min_n {min_n})",
            "inputs": ["data/scores.csv"],
            "params": {"region": {"type": "str", "choices": ["Zwolle", "Deventer"]},
                       "min_n": {"type": "int"}, "lang": {"type": "str", "default": "nl"}}}},
        "reports": [{"template": "basic",
                     "grid": {"region": ["Zwolle", "Deventer"],
                              "min_n": list(range(1, -(-reports // 2) + 1))},
                     "output": "regio/{region}-{min_n}.html"}],
    }
    path = root / "plan.yaml"
    path.write_text(yaml.safe_dump(plan, sort_keys=False), encoding="utf-8")
    return path


# ---------------------------------------------------------------------- running
def kernel_env() -> dict[str, str]:
    """Environment of both sides: figures inline in the kernel (no ``MPLBACKEND=Agg``)."""
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    env["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
    return env


def run(cmd: list[str], cwd: Path) -> float:
    """Run a command (output discarded); return its wall-clock seconds."""
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, env=kernel_env(), check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def cell_seconds(path: Path) -> float:
    """Sum of papermill's recorded cell durations in an executed notebook."""
    nb = nbformat.read(path, as_version=4)
    return sum(float(c.metadata.get("papermill", {}).get("duration") or 0.0)
               for c in nb.cells if c.cell_type == "code")


def baseline(plan_path: Path, out: Path) -> dict[str, dict[str, float]]:
    """Sequential papermill + nbconvert CLI loop over the plan's reports.

    Returns
    -------
    dict
        Per report id: ``papermill`` and ``nbconvert`` seconds and ``cells`` (the
        notebook's cell durations), and the executed notebook's path under ``out``.
    """
    plan = load_plan(plan_path)
    timings: dict[str, dict[str, float]] = {}
    for report in plan.reports:
        executed = out / f"{report.id}.ipynb"
        executed.parent.mkdir(parents=True, exist_ok=True)
        params = [a for k, v in report.parameters.items() for a in ("-p", k, str(v))]
        t_pm = run([str(BIN / "papermill"), "--no-progress-bar", "--cwd",
                    str(plan.templates[report.template].cwd), str(report.template_path),
                    str(executed), *params], ROOT)
        t_nbc = run([str(BIN / "jupyter"), "nbconvert", "--to", "html", "--no-input",
                     str(executed)], ROOT)
        timings[report.id] = {"papermill": t_pm, "nbconvert": t_nbc,
                              "cells": cell_seconds(executed)}
    return timings


def same_records(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Whether two reports recorded the same values (floats to 1e-9 relative)."""
    def same(x: Any, y: Any) -> bool:
        if isinstance(x, dict) and isinstance(y, dict):
            return x.keys() == y.keys() and all(same(x[k], y[k]) for k in x)
        if isinstance(x, list) and isinstance(y, list):
            return len(x) == len(y) and all(same(p, q) for p, q in zip(x, y, strict=True))
        if isinstance(x, float) or isinstance(y, float):
            return (isinstance(x, int | float) and isinstance(y, int | float)
                    and math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-12))
        return bool(x == y)

    return bool(a) and same(a, b)


def median(values: Iterable[float]) -> float:
    """Median of the values (NaN when there are none)."""
    data = list(values)
    return statistics.median(data) if data else float("nan")


# ---------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> dict[str, object]:
    """Run the benchmark, print the table and write the JSON results."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--cohort", default="2023-2024",
                        help="cohort of the leerteam reports ('all' for every leerteam)")
    parser.add_argument("--limit", type=int, default=None,
                        help="only this many reports, balanced over the templates")
    parser.add_argument("--engine-only", action="store_true", help="skip the baseline loop")
    parser.add_argument("--recheck", type=int, default=100,
                        help="tiny reports in the unchanged-plan re-check (0: skip)")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if not (DEMO_DATA / "audit.csv").is_file():
        parser.error(f"the demo data is missing in {DEMO_DATA}: run `make demo-data` first")
    cli = str(BIN / "ipo-research")
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench_reports_") as tmp:
        folder = Path(tmp) / "demo"
        plan_path = derive_plan(folder, cohort=None if args.cohort == "all" else args.cohort,
                                limit=args.limit)
        plan = load_plan(plan_path)
        n = len(plan.reports)
        templates = {t: sum(r.template == t for r in plan.reports) for t in plan.templates}

        t_ours = run([cli, "reports", "build", str(plan_path), "--force", "--no-progress"],
                     ROOT)
        summary = json.loads((plan.log_dir / "summary.json").read_text(encoding="utf-8"))
        ours = {rid: {"total": float(s),
                      "cells": cell_seconds((plan.executed_dir / rid).with_suffix(".ipynb"))}
                for rid, s in summary["report_seconds"].items()}
        pages = sum(1 for p in plan.output_dir.rglob("*.html") if p.name != "index.html")
        t_recheck_demo = run([cli, "reports", "build", str(plan_path), "--no-progress"], ROOT)

        base: dict[str, dict[str, float]] = {}
        t_base = float("nan")
        agree = 0
        if not args.engine_only:
            start = time.perf_counter()
            base = baseline(plan_path, folder / "baseline")
            t_base = time.perf_counter() - start
            for report in plan.reports:
                mine = read_records((plan.executed_dir / report.id).with_suffix(".ipynb"))
                theirs = read_records(folder / "baseline" / f"{report.id}.ipynb")
                agree += same_records(mine, theirs)

        t_first = t_recheck = float("nan")
        n_tiny = 0
        if args.recheck > 0:
            tiny = Path(tmp) / "recheck"
            tiny_plan = tiny_project(tiny, args.recheck)
            n_tiny = len(load_plan(tiny_plan).reports)
            t_first = run([cli, "reports", "build", str(tiny_plan), "--no-progress"], tiny)
            t_recheck = min(run([cli, "reports", "build", str(tiny_plan), "--no-progress"], tiny)
                            for _ in range(3))
    load_after = os.getloadavg()

    def r(x: float, digits: int = 2) -> float | None:
        return None if math.isnan(x) else round(x, digits)

    ratio = t_ours / t_base
    base_total = [v["papermill"] + v["nbconvert"] for v in base.values()]
    result: dict[str, object] = {
        "plan": f"plans/demo.yaml, leerteams of cohort {args.cohort}"
                + (f", first {args.limit} reports" if args.limit else ""),
        "reports": n, "reports_by_template": templates, "pages_written": pages,
        "failed": len(summary["failed"]),
        "baseline_papermill_nbconvert_s": r(t_base),
        "ipo_research_build_force_s": r(t_ours),
        "ratio": r(ratio, 3), "bar_ratio": BAR,
        "records_identical": agree if base else None,
        "median_per_report_s": {
            "baseline_total": r(median(base_total)),
            "baseline_papermill": r(median(v["papermill"] for v in base.values())),
            "baseline_nbconvert": r(median(v["nbconvert"] for v in base.values())),
            "baseline_cells": r(median(v["cells"] for v in base.values())),
            "engine_total": r(median(v["total"] for v in ours.values())),
            "engine_cells": r(median(v["cells"] for v in ours.values())),
            "engine_other": r(median(v["total"] - v["cells"] for v in ours.values())),
        },
        "median_engine_s_by_template": {
            t: r(median(ours[x.id]["total"] for x in plan.reports if x.template == t))
            for t in templates},
        "recheck_unchanged_demo_s": r(t_recheck_demo, 3),
        "recheck_reports": n_tiny, "recheck_first_build_s": r(t_first),
        "recheck_unchanged_s": r(t_recheck, 3), "bar_recheck_s": 2.0,
        "workers": os.cpu_count(), "cpu_count": os.cpu_count(),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in load_after],
        "python": platform.python_version(),
    }
    med: Any = result["median_per_report_s"]

    def fmt(x: float | None, digits: int = 1) -> str:
        return "-" if x is None else f"{x:.{digits}f}"

    rows = [
        ("reports built", str(n), str(n)),
        ("total wall-clock seconds", fmt(r(t_base)), fmt(r(t_ours))),
        ("median seconds per report", fmt(med["baseline_total"], 2), fmt(med["engine_total"], 2)),
        ("  notebook cells", fmt(med["baseline_cells"], 2), fmt(med["engine_cells"], 2)),
        ("  kernel, papermill, export", fmt(None if not base else r(median(
            v["papermill"] + v["nbconvert"] - v["cells"] for v in base.values())), 2),
         fmt(med["engine_other"], 2)),
        ("  of which nbconvert", fmt(med["baseline_nbconvert"], 2), "-"),
    ]
    print(f"{'demo plan, ' + str(n) + ' reports ' + str(templates):<34}")
    print(f"{'':<34}{'papermill+nbconvert':>20}{'reports build':>16}")
    for label, a, b in rows:
        print(f"{label:<34}{a:>20}{b:>16}")
    print(f"{'ratio (bar <= ' + str(BAR) + ')':<34}{fmt(r(ratio, 3), 3):>36}")
    if base:
        print(f"{'reports with identical records':<34}{agree:>20}{'':>16}")
    print(f"{'re-check, unchanged demo plan':<34}{fmt(r(t_recheck_demo, 3), 2):>36}")
    if n_tiny:
        print(f"{'re-check, unchanged ' + str(n_tiny) + ' tiny (< 2 s)':<34}"
              f"{fmt(r(t_recheck, 3), 2):>36}")
    print(f"cpu_count {os.cpu_count()}, load average {load_before[0]:.2f} -> {load_after[0]:.2f}")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return result


if __name__ == "__main__":
    main()
