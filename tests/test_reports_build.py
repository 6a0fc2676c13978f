"""Building a plan: pages, audit notebooks, failures, incremental and Dask builds."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from ipo_research.cli import main
from ipo_research.reports import build_plan, load_plan
from ipo_research.reports.html import external_references

pytestmark = pytest.mark.notebooks

FIXTURES = Path(__file__).parent / "fixtures" / "notebooks"

PLAN = """
title: Testrapporten
engine: {preload: [numpy, pandas, matplotlib.pyplot], recycle_after: 10}
templates:
  basic:
    path: notebooks/basic.ipynb
    title: "Regiorapport {region}"
    inputs: [data/scores.csv]
    params:
      region: {type: str, choices: [Zwolle, Deventer]}
      min_n: {type: int, default: 10}
      lang: {choices: [nl, en], default: nl}
  failing:
    path: notebooks/failing.ipynb
    title: "Mislukt {region}"
    params:
      region: {type: str}
reports:
  - template: basic
    cases: [{region: Zwolle, lang: nl}, {region: Deventer, lang: en}]
    output: "regio/{region}.html"
"""
FAILING = """
  - template: failing
    cases: [{region: Zwolle}]
    output: "mislukt/{region}.html"
"""


def make_project(root: Path, plan: str) -> Path:
    shutil.copytree(FIXTURES, root / "notebooks", dirs_exist_ok=True)
    (root / "data").mkdir(exist_ok=True)
    rng = np.random.default_rng(20241122)
    pd.DataFrame({"region": rng.choice(["Zwolle", "Deventer"], 40),
                  "score": rng.normal(3.5, 0.6, 40).round(2)}).to_csv(
        root / "data" / "scores.csv", index=False)
    path = root / "plan.yaml"
    path.write_text(plan, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One build of two good reports and one failing report (one warm kernel)."""
    root = tmp_path_factory.mktemp("build")
    plan_file = make_project(root, PLAN + FAILING)
    summary = build_plan(load_plan(plan_file), workers=1, progress=False)
    return {"root": root, "plan": plan_file, "summary": summary}


def test_build_writes_pages_audit_notebooks_and_index(built: dict[str, Any]) -> None:
    root, summary = built["root"], built["summary"]
    assert sorted(summary.built) == ["regio/deventer", "regio/zwolle"]
    assert [f[0] for f in summary.failed] == ["mislukt/zwolle"]
    assert summary.exit_code == 1
    published = sorted(p.relative_to(root / "reports").as_posix()
                       for p in (root / "reports").rglob("*") if p.is_file())
    assert published == ["index.html", "mislukt/zwolle.html", "regio/deventer.html",
                         "regio/zwolle.html"]
    audit = sorted(p.relative_to(root / "build" / "executed").as_posix()
                   for p in (root / "build" / "executed").rglob("*.ipynb"))
    assert audit == ["mislukt/zwolle.ipynb", "regio/deventer.ipynb", "regio/zwolle.ipynb"]
    executed = json.loads((root / "build/executed/regio/zwolle.ipynb").read_text())
    assert executed["metadata"]["papermill"]["parameters"] == {
        "region": "Zwolle", "min_n": 10, "lang": "nl"}
    index = (root / "reports" / "index.html").read_text()
    assert '<html lang="nl">' in index and "<title>Testrapporten</title>" in index
    assert '<a href="regio/zwolle.html">Regiorapport Zwolle</a>' in index
    assert re.search(r'<a href="mislukt/zwolle.html">Mislukt Zwolle</a> <span[^>]*>'
                     r'\(niet beschikbaar\)', index)


def test_pages_are_self_contained_and_show_no_code_or_parameters(
        built: dict[str, Any]) -> None:
    root = built["root"]
    page = (root / "reports/regio/zwolle.html").read_text()
    en = (root / "reports/regio/deventer.html").read_text()
    scores = pd.read_csv(root / "data/scores.csv")
    zwolle = scores[scores["region"] == "Zwolle"]
    assert f"REGION=Zwolle N={len(zwolle)} MEAN={zwolle['score'].mean():.3f}" in page
    assert '<html lang="nl">' in page and '<html lang="en">' in en
    assert "<title>Regiorapport Zwolle</title>" in page
    assert external_references(page) == []
    assert "cdnjs" not in page and "mathjax" not in page.lower() and "require.js" not in page
    assert re.search(r'<img[^>]+src="data:image/png;base64,', page)
    for secret in ("injected-parameters", "papermill", 'region = "Zwolle"', "min_n = 10",
                   "read_csv", str(root), 'class="highlight hl-ipython3"'):
        assert secret not in page


def test_failing_report_gets_an_error_page_without_details(built: dict[str, Any]) -> None:
    root, summary = built["root"], built["summary"]
    page = (root / "reports/mislukt/zwolle.html").read_text()
    assert "Dit rapport kon niet worden gemaakt." in page
    assert "(ValueError) in cel 4 van het sjabloon" in page
    assert "secret" not in page and "/home" not in page and "Traceback" not in page
    _, message, log = summary.failed[0]
    assert message == "ValueError: cannot open /home/lector/secret/key.txt for Zwolle"
    assert "raise ValueError" in Path(log).read_text()
    assert "FAILED mislukt/zwolle: ValueError" in summary.lines()[0]
    summary_json = json.loads((root / "build/logs/summary.json").read_text())
    assert summary_json["failed"][0]["id"] == "mislukt/zwolle"


def test_unchanged_plan_rebuilds_nothing(tmp_path: Path, built: dict[str, Any]) -> None:
    root = built["root"]
    ok_plan = root / "ok.yaml"
    ok_plan.write_text(PLAN, encoding="utf-8")  # same reports, without the failing one
    summary = build_plan(load_plan(ok_plan), progress=False)
    assert summary.built == [] and summary.failed == []
    assert sorted(summary.skipped) == ["regio/deventer", "regio/zwolle"]


def test_a_change_in_the_package_code_makes_every_report_stale(
        tmp_path: Path, built: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """With an editable install the version need not move: the package's sources are an input."""
    from ipo_research.reports import build as build_module
    from ipo_research.reports.cache import BuildCache

    ok_plan = built["root"] / "ok.yaml"
    ok_plan.write_text(PLAN, encoding="utf-8")
    plan = load_plan(ok_plan)
    todo, fresh = build_module.plan_jobs(plan, BuildCache(plan.cache_file))
    assert todo == [] and len(fresh) == 2
    source = tmp_path / "analysis.py"
    source.write_text("A = 1\n")
    real_files = build_module._package_files()
    assert any(p.name == "change.py" and p.parent.name == "analysis" for p in real_files)
    monkeypatch.setattr(build_module, "_package_files", lambda: [*real_files, source])
    todo, fresh = build_module.plan_jobs(plan, BuildCache(plan.cache_file))
    assert sorted(r.id for r, _ in todo) == ["regio/deventer", "regio/zwolle"] and fresh == []


def test_interrupted_build_is_completed_and_dask_gives_identical_pages(
        built: dict[str, Any]) -> None:
    from distributed import LocalCluster

    root = built["root"]
    ok_plan = root / "ok.yaml"
    ok_plan.write_text(PLAN, encoding="utf-8")
    before = {p: (root / "reports" / p).read_bytes()
              for p in ("regio/zwolle.html", "regio/deventer.html")}
    # an interrupted build: one page never got written, a temporary file was left behind
    (root / "reports/regio/deventer.html").unlink()
    (root / "reports/regio/.deventer.html.123.tmp").write_text("<html><bo")
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                      dashboard_address=None) as cluster:
        summary = build_plan(load_plan(ok_plan), scheduler=cluster.scheduler_address,
                             progress=False)
        assert summary.built == ["regio/deventer"] and summary.skipped == ["regio/zwolle"]
        assert (root / "reports/regio/deventer.html").read_bytes() == before[
            "regio/deventer.html"]
        forced = build_plan(load_plan(ok_plan), scheduler=cluster.scheduler_address,
                            force=True, progress=False)
    assert sorted(forced.built) == ["regio/deventer", "regio/zwolle"]
    assert not list((root / "reports").rglob("*.tmp"))
    for name, content in before.items():
        assert (root / "reports" / name).read_bytes() == content


def test_cli_build_exit_code_and_summary(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plan = make_project(tmp_path, PLAN.replace(
        "cases: [{region: Zwolle, lang: nl}, {region: Deventer, lang: en}]",
        "cases: [{region: Zwolle}]") + FAILING)
    assert main(["reports", "build", str(plan), "--no-progress", "--workers", "1"]) == 1
    captured = capsys.readouterr()
    assert "2 reports: 1 built, 0 up to date, 1 failed" in captured.out
    assert "FAILED mislukt/zwolle: ValueError" in captured.err
