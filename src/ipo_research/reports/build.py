"""Build the reports of a plan: validate, skip what is up to date, execute, publish.

The work of one report (:func:`run_job`) is pure: it executes the template with
papermill in this thread's warm kernel and returns the executed notebook and the page.
Everything that touches the output folders happens in :func:`build_plan`, on the
calling thread, with atomic writes; the cache records a report only after its files
are in place, so an interrupted build is completed by the next one.  Because workers only
compute, the same jobs run unchanged on threads (default) or on a Dask cluster
(``scheduler=``) and give identical pages.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ipo_research import __version__
from ipo_research.reports.cache import ENGINE_FORMAT, BuildCache, atomic_write, fingerprint
from ipo_research.reports.plan import EngineOptions, Plan, ReportSpec

__all__ = ["BuildSummary", "Job", "Outcome", "build_plan", "plan_jobs", "run_job"]

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


@dataclass(frozen=True)
class Job:
    """Everything a worker needs to run one report (picklable, for Dask)."""

    id: str
    title: str
    lang: str
    template_path: str
    notebook: str
    parameters: dict[str, Any]
    cwd: str
    engine: EngineOptions


@dataclass(frozen=True)
class Outcome:
    """The result of one report: the page and the executed notebook, or the failure."""

    id: str
    ok: bool
    html: str
    executed: str
    seconds: float
    error_name: str | None = None
    error_cell: int | None = None
    error_text: str | None = None


@dataclass
class BuildSummary:
    """What a build did; ``exit_code`` is 1 when any report failed.

    ``report_seconds`` holds, per report run in this build, the seconds its worker spent
    on it (kernel preparation, execution and HTML export).
    """

    total: int = 0
    built: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[tuple[str, str, str]] = field(default_factory=list)
    seconds: float = 0.0
    report_seconds: dict[str, float] = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        """0 when every report is up to date or built, 1 otherwise."""
        return 1 if self.failed else 0

    def lines(self) -> list[str]:
        """Return the summary as printable lines (one per failure, then the totals)."""
        out = [f"FAILED {rid}: {msg} (log: {log})" for rid, msg, log in self.failed]
        out.append(
            f"{self.total} reports: {len(self.built)} built, {len(self.skipped)} up to date, "
            f"{len(self.failed)} failed in {self.seconds:.1f} s"
        )
        return out

    def to_json(self) -> dict[str, Any]:
        """Return the summary as JSON-ready data."""
        return {"total": self.total, "built": self.built, "skipped": self.skipped,
                "failed": [{"id": r, "error": m, "log": log} for r, m, log in self.failed],
                "seconds": round(self.seconds, 3),
                "report_seconds": {k: round(v, 3) for k, v in self.report_seconds.items()}}


# ---------------------------------------------------------------------- worker side
def _template_cell(nb: Any, cell_index: int | None) -> int | None:
    """Map an executed cell index to the 1-based cell number in the template."""
    if cell_index is None:
        return None
    injected = next((i for i, c in enumerate(nb.cells)
                     if "injected-parameters" in c.get("metadata", {}).get("tags", [])), None)
    return cell_index + (0 if injected is None or cell_index < injected else -1) + 1


def run_job(job: Job) -> Outcome:
    """Execute one report in this thread's warm kernel and render its page.

    Never raises for a failing report: the failure is returned in the :class:`Outcome`
    together with an error page.
    """
    import nbformat
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    from ipo_research.reports.engine import ENGINE_NAME, session_for_thread
    from ipo_research.reports.html import error_page, export_html

    logging.getLogger("papermill").setLevel(logging.WARNING)
    opts = job.engine
    session = session_for_thread(kernel_name=opts.kernel, recycle_after=opts.recycle_after,
                                 startup_timeout=opts.startup_timeout, preload=opts.preload,
                                 seed=opts.seed)
    start = time.perf_counter()
    nb: Any = None
    error: tuple[str, int | None, str] | None = None
    try:
        nb = pm.execute_notebook(
            nbformat.reads(job.notebook, as_version=4), None, parameters=job.parameters,
            engine_name=ENGINE_NAME, kernel_name=opts.kernel, progress_bar=False,
            request_save_on_cell_execute=False, start_timeout=opts.startup_timeout,
            execution_timeout=opts.cell_timeout, session=session, report_cwd=job.cwd,
        )
    except PapermillExecutionError as err:
        nb = session.last_nb
        error = (err.ename, _template_cell(nb, err.cell_index), _ANSI.sub("", str(err)))
    except Exception as err:  # kernel died, cell timeout, kernel did not start...
        nb = session.last_nb
        error = (type(err).__name__, None, f"{type(err).__name__}: {err}")
    session.finished(failed=error is not None)
    executed = ""
    if nb is not None:
        nb.metadata.setdefault("papermill", {})["input_path"] = job.template_path
        executed = nbformat.writes(nb)
    if error is None:
        try:
            page = export_html(nb, title=job.title, lang=job.lang)
        except Exception as err:
            error = (type(err).__name__, None, f"HTML export failed: {err}")
        else:
            return Outcome(job.id, True, page, executed, time.perf_counter() - start)
    name, cell, text = error
    page = error_page(title=job.title, report_id=job.id, error_name=name, cell=cell,
                      lang=job.lang)
    return Outcome(job.id, False, page, executed, time.perf_counter() - start,
                   error_name=name, error_cell=cell, error_text=text)


# ---------------------------------------------------------------------- driver side
def _run_threads(jobs: Sequence[Job], workers: int) -> Iterator[Outcome]:
    import papermill  # noqa: F401  # first: its entry point imports our engine module

    from ipo_research.reports.engine import shutdown_sessions

    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ipo-report")
    try:
        futures = [pool.submit(run_job, job) for job in jobs]
        for future in as_completed(futures):
            yield future.result()
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
        shutdown_sessions()
        pool.shutdown(wait=True)


def _paths(plan: Plan, report: ReportSpec) -> tuple[Path, Path, Path]:
    return (plan.output_dir / report.output,
            plan.executed_dir / report.output.with_suffix(".ipynb"),
            plan.log_dir / report.output.with_suffix(".log"))


def plan_jobs(plan: Plan, cache: BuildCache, *, force: bool = False
              ) -> tuple[list[tuple[ReportSpec, str]], list[ReportSpec]]:
    """Split the plan's reports into ``(report, fingerprint)`` to build and up-to-date ones.

    Raises
    ------
    ReportError
        When a template or a declared input is missing.
    """
    inputs: dict[str, list[tuple[str, str]]] = {}
    todo: list[tuple[ReportSpec, str]] = []
    fresh: list[ReportSpec] = []
    opts = plan.engine
    # The package's own code is an input of every report: with an editable install a change in
    # an analysis or presentation function must rebuild the pages even if the version did not move.
    package = fingerprint({"files": cache.hashes(_package_files())})
    for report in plan.reports:
        if report.template not in inputs:
            files = [plan.templates[report.template].path, *plan.input_files(report.template)]
            inputs[report.template] = cache.hashes(files)
        key = fingerprint({
            "files": inputs[report.template], "parameters": dict(report.parameters),
            "title": report.title, "lang": report.lang, "version": __version__,
            "package": package,
            "format": ENGINE_FORMAT, "kernel": opts.kernel, "seed": opts.seed,
        })
        html_path, nb_path, _ = _paths(plan, report)
        if not force and cache.is_fresh(report.id, key, (html_path, nb_path)):
            fresh.append(report)
        else:
            todo.append((report, key))
    return todo, fresh


def _package_files() -> list[Path]:
    """Source files of the installed ``ipo_research`` package (code, definitions, styles)."""
    root = Path(__file__).resolve().parents[1]
    return sorted(p for p in root.rglob("*") if p.suffix in {".py", ".yaml", ".css"} and p.is_file())


def build_plan(
    plan: Plan, *, force: bool = False, workers: int | None = None,
    scheduler: str | None = None, progress: bool = True,
    echo: Callable[[str], None] | None = None,
) -> BuildSummary:
    """Build every report of a plan that is not up to date.

    Parameters
    ----------
    plan
        A plan from :func:`~ipo_research.reports.plan.load_plan` (parameters are already
        validated there, before any kernel starts).
    force
        Rebuild every report.
    workers
        Parallel warm kernels (default: the number of CPU cores).
    scheduler
        Address of a Dask distributed scheduler; the reports then run on its workers
        (which must see the same files) and the pages are written here.
    progress
        Show a progress bar (tqdm, on stderr).
    echo
        Where to send one-line messages (default: nowhere).

    Returns
    -------
    BuildSummary
        Failed reports have an error page and a log; ``exit_code`` is then 1.
    """
    from tqdm.auto import tqdm

    from ipo_research.reports.html import IndexEntry, index_page, relative_href

    started = time.perf_counter()
    _remove_leftovers(plan.output_dir)
    cache = BuildCache(plan.cache_file)
    todo, fresh = plan_jobs(plan, cache, force=force)
    summary = BuildSummary(total=len(plan.reports), skipped=[r.id for r in fresh])
    templates: dict[str, str] = {}
    jobs = []
    keys = {}
    for report, key in todo:
        if report.template not in templates:
            templates[report.template] = report.template_path.read_text(encoding="utf-8")
        jobs.append(Job(
            id=report.id, title=report.title, lang=report.lang,
            template_path=str(report.template_path), notebook=templates[report.template],
            parameters=dict(report.parameters),
            cwd=str(plan.templates[report.template].cwd), engine=plan.engine,
        ))
        keys[report.id] = key
    by_id = {r.id: r for r in plan.reports}
    if jobs:
        if scheduler:
            from ipo_research.reports.dask import run_on_dask

            outcomes = run_on_dask(jobs, scheduler)
        else:
            count = max(1, min(workers or os.cpu_count() or 1, len(jobs)))
            outcomes = _run_threads(jobs, count)
        bar = tqdm(total=len(jobs), disable=not progress, unit="report", desc="reports",
                   dynamic_ncols=True)
        try:
            for outcome in outcomes:
                _publish(plan, by_id[outcome.id], outcome, cache, keys[outcome.id], summary)
                bar.update(1)
        finally:
            bar.close()
    entries = []
    for report in plan.reports:
        ok = cache.reports.get(report.id, {}).get("status") == "ok"
        entries.append(IndexEntry(href=relative_href(report.output.parts), title=report.title,
                                  group=plan.templates[report.template].title.split("{")[0]
                                  .strip(" -–:") or report.template, ok=ok,
                                  lang=report.lang))
    atomic_write(plan.output_dir / "index.html",
                 index_page(entries, title=plan.title, lang=plan.lang))
    summary.seconds = time.perf_counter() - started
    atomic_write(plan.log_dir / "summary.json", _json(summary.to_json()))
    if echo is not None:
        for line in summary.lines():
            echo(line)
    return summary


def _remove_leftovers(folder: Path) -> None:
    """Delete temporary files an interrupted build left in the published tree."""
    if folder.is_dir():
        for tmp in folder.rglob(".*.tmp"):
            tmp.unlink(missing_ok=True)


def _json(data: Any) -> str:
    import json

    return json.dumps(data, indent=1, ensure_ascii=False)


def _publish(plan: Plan, report: ReportSpec, outcome: Outcome, cache: BuildCache, key: str,
             summary: BuildSummary) -> None:
    """Write one report's files atomically, then record it in the cache."""
    html_path, nb_path, log_path = _paths(plan, report)
    summary.report_seconds[report.id] = outcome.seconds
    if outcome.executed:
        atomic_write(nb_path, outcome.executed)
    atomic_write(html_path, outcome.html)
    if outcome.ok:
        log_path.unlink(missing_ok=True)
        summary.built.append(report.id)
        cache.record(report.id, key, "ok")
    else:
        atomic_write(log_path, f"report {report.id}\ntemplate {report.template_path}\n"
                               f"parameters {dict(report.parameters)!r}\n\n{outcome.error_text}\n")
        first = (outcome.error_text or "").strip().splitlines()
        message = next((ln for ln in reversed(first) if ln.strip()), outcome.error_name or "")
        summary.failed.append((report.id, message[:300], str(log_path)))
        cache.record(report.id, key, "error")
    cache.save()
