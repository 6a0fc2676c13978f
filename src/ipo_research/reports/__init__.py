"""Parameterised reports: plans, typed parameters, a warm-kernel papermill engine, the build.

Public API::

    from ipo_research.reports import load_plan, build_plan
    plan = load_plan("plans/demo.yaml")     # validates every report's parameters
    summary = build_plan(plan, workers=2)   # incremental, parallel, atomic
    summary.exit_code                       # 1 when a report failed

The command line (``ipo-research reports plan|build``) calls :func:`cli_plan` and
:func:`cli_build`.  Heavy modules (papermill, nbconvert, dask) load only when needed.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from ipo_research.reports.params import ParamSpec
from ipo_research.reports.plan import EngineOptions, Plan, ReportSpec, load_plan, slugify

if TYPE_CHECKING:  # pragma: no cover
    from ipo_research.reports.build import BuildSummary, build_plan

__all__ = [
    "BuildSummary",
    "EngineOptions",
    "ParamSpec",
    "Plan",
    "ReportSpec",
    "build_plan",
    "cli_build",
    "cli_plan",
    "load_plan",
    "slugify",
]


def __getattr__(name: str) -> Any:
    if name in {"build_plan", "BuildSummary"}:
        from ipo_research.reports import build

        return getattr(build, name)
    raise AttributeError(f"module 'ipo_research.reports' has no attribute {name!r}")


def cli_plan(args: argparse.Namespace) -> int:
    """``ipo-research reports plan PLAN [--json]``: list the reports, run nothing."""
    plan = load_plan(args.plan)
    if getattr(args, "json", False):
        print(json.dumps(plan.to_json(), indent=2, ensure_ascii=False))
        return 0
    print(f"{len(plan.reports)} reports in {args.plan} -> {plan.output_dir}")
    for report in plan.reports:
        params = ", ".join(f"{k}={v!r}" for k, v in report.parameters.items())
        print(f"  {report.id}  [{report.template}]  {params}")
    return 0


def cli_build(args: argparse.Namespace) -> int:
    """``ipo-research reports build PLAN [--force] [--workers N] [--scheduler A]``."""
    from ipo_research.reports.build import build_plan

    plan = load_plan(args.plan)
    summary = build_plan(
        plan, force=bool(getattr(args, "force", False)), workers=getattr(args, "workers", None),
        scheduler=getattr(args, "scheduler", None),
        progress=not getattr(args, "no_progress", False),
    )
    for line in summary.lines():
        print(line, file=sys.stderr if line.startswith("FAILED") else sys.stdout)
    return summary.exit_code
