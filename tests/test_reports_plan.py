"""Report plans and typed parameters (no kernels are started here)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ipo_research.cli import main
from ipo_research.errors import ParameterError, ReadError, ReportError
from ipo_research.reports import load_plan, slugify
from ipo_research.reports.build import plan_jobs
from ipo_research.reports.cache import BuildCache, atomic_write
from ipo_research.reports.params import read_template_defaults

NOTEBOOKS = Path(__file__).parent / "fixtures" / "notebooks"

BASIC = """
title: Testrapporten
datasets:
  scores: data/scores.parquet
templates:
  basic:
    path: notebooks/basic.ipynb
    title: "Regiorapport {region}"
    inputs: [data/scores.csv]
    params:
      region: {type: str, choices: [Zwolle, Deventer]}
      min_n: {type: int, default: 10, min: 1}
      lang: {choices: [nl, en], default: nl}
reports:
"""


def make_project(root: Path, reports: str, header: str = BASIC) -> Path:
    """Copy the test templates and a small seeded dataset into ``root``; write a plan."""
    (root / "notebooks").mkdir(parents=True, exist_ok=True)
    for nb in NOTEBOOKS.iterdir():
        shutil.copy(nb, root / "notebooks" / nb.name)
    (root / "data").mkdir(exist_ok=True)
    rng = np.random.default_rng(20241122)
    df = pd.DataFrame({
        "region": rng.choice(["Zwolle", "Deventer"], 40),
        "team": rng.choice(["ZW-2223-01", "ZW-2223-02", "DV-2223-01"], 40),
        "score": rng.normal(3.5, 0.6, 40).round(2),
    })
    df.loc[3, "team"] = None
    df.to_csv(root / "data" / "scores.csv", index=False)
    df.to_parquet(root / "data" / "scores.parquet")
    plan = root / "plan.yaml"
    plan.write_text(header + reports, encoding="utf-8")
    return plan


GRID = """
  - template: basic
    grid:
      region: [Zwolle, Deventer]
      lang: [nl, en]
    output: "regio/{region}/{lang}.html"
"""


def test_grid_is_a_cartesian_product_with_defaults_filled_in(tmp_path: Path) -> None:
    plan = load_plan(make_project(tmp_path, GRID))
    assert [r.id for r in plan.reports] == [
        "regio/zwolle/nl", "regio/zwolle/en", "regio/deventer/nl", "regio/deventer/en"]
    assert dict(plan.reports[1].parameters) == {"region": "Zwolle", "min_n": 10, "lang": "en"}
    assert plan.reports[1].lang == "en"
    assert plan.reports[0].title == "Regiorapport Zwolle"
    assert plan.output_dir == tmp_path / "reports"


def test_distinct_values_from_a_dataset_give_one_report_each(tmp_path: Path) -> None:
    header = BASIC.replace("region: {type: str, choices: [Zwolle, Deventer]}",
                           "region: {type: str}")
    reports = """
  - template: basic
    grid:
      region: {distinct: {dataset: scores, column: team, where: {region: Zwolle}}}
    parameters: {min_n: 5}
    output: "team/{region}.html"
"""
    plan = load_plan(make_project(tmp_path, reports, header))
    df = pd.read_parquet(tmp_path / "data" / "scores.parquet")
    expected = sorted(df.loc[df["region"] == "Zwolle", "team"].dropna().unique())
    assert [r.parameters["region"] for r in plan.reports] == expected
    assert all(r.parameters["min_n"] == 5 for r in plan.reports)
    assert plan.reports[0].id == f"team/{expected[0].lower()}"
    # the distinct values are remembered for an unchanged dataset
    memo = json.loads((tmp_path / ".ipo_cache" / "distinct.json").read_text())
    assert [v["values"] for v in memo.values()] == [expected]


def test_cases_are_crossed_with_the_grid(tmp_path: Path) -> None:
    reports = """
  - template: basic
    grid: {region: [Zwolle, Deventer]}
    cases: [{min_n: 5}, {min_n: 20}]
    output: "r/{region}-{min_n}.html"
"""
    plan = load_plan(make_project(tmp_path, reports))
    assert [r.id for r in plan.reports] == ["r/zwolle-5", "r/zwolle-20", "r/deventer-5",
                                            "r/deventer-20"]


@pytest.mark.parametrize(("entry", "message"), [
    ("grid: {region: [Zwolle, Kampen]}",
     r"report 'r/kampen': parameter 'region' not one of the allowed values; expected str in "
     r"\['Zwolle', 'Deventer'\], received str 'Kampen'"),
    ("grid: {region: [Zwolle]}\n    parameters: {min_n: '10'}",
     r"parameter 'min_n' wrong type; expected int >= 1, received str '10'"),
    ("grid: {region: [Zwolle]}\n    parameters: {min_n: true}",
     r"parameter 'min_n' wrong type; expected int >= 1, received bool True"),
    ("grid: {region: [Zwolle]}\n    parameters: {min_n: 0}",
     r"parameter 'min_n' below the minimum 1"),
    ("grid: {region: [Zwolle]}\n    parameters: {cohort: '2022-2023'}",
     r"unknown parameter 'cohort' \(received str '2022-2023'\); expected one of "
     r"\['lang', 'min_n', 'region'\]"),
    ("parameters: {min_n: 12}",
     r"report 'r/region': missing parameter 'region'; expected str in"),
])
def test_invalid_parameters_stop_the_plan(tmp_path: Path, entry: str, message: str) -> None:
    reports = f"\n  - template: basic\n    {entry}\n    output: \"r/{{region}}.html\"\n"
    if "missing" in message:
        reports = reports.replace("{region}", "region")
    with pytest.raises(ParameterError, match=message):
        load_plan(make_project(tmp_path, reports))


def test_all_reports_are_checked_at_once(tmp_path: Path) -> None:
    reports = """
  - template: basic
    grid: {region: [Kampen, Urk, Zwolle]}
    parameters: {min_n: -1}
    output: "r/{region}.html"
"""
    with pytest.raises(ParameterError, match=r"^5 invalid report parameter\(s\).*report 'r/kampen'"
                       r".*report 'r/urk'.*report 'r/zwolle': parameter 'min_n' below"):
        load_plan(make_project(tmp_path, reports))


def test_declarations_are_checked_against_the_template(tmp_path: Path) -> None:
    header = BASIC.replace("lang: {choices: [nl, en], default: nl}",
                           "lnag: {choices: [nl, en], default: nl}")
    with pytest.raises(ParameterError, match=r"parameter 'lnag' is declared in the plan but not "
                       r"assigned in the template's parameters cell"):
        load_plan(make_project(tmp_path, GRID, header))
    header = BASIC.replace("min_n: {type: int, default: 10, min: 1}",
                           "min_n: {type: integer}")
    with pytest.raises(ParameterError, match=r"parameter 'min_n' has type 'integer', expected one"):
        load_plan(make_project(tmp_path, GRID, header))
    header = BASIC.replace("min_n: {type: int, default: 10, min: 1}",
                           "min_n: {type: int, default: 10.5}")
    with pytest.raises(ParameterError, match=r"the default of parameter 'min_n' is invalid"):
        load_plan(make_project(tmp_path, GRID, header))


def test_type_is_inferred_from_the_parameters_cell(tmp_path: Path) -> None:
    header = BASIC.replace("min_n: {type: int, default: 10, min: 1}", "min_n: {default: 10}")
    plan = load_plan(make_project(tmp_path, GRID, header))
    assert plan.templates["basic"].params["min_n"].type == "int"
    assert plan.templates["basic"].params["lang"].type == "str"
    assert read_template_defaults(NOTEBOOKS / "basic.ipynb") == {
        "region": "Zwolle", "min_n": 10, "lang": "nl"}


def test_template_without_parameters_cell_is_refused(tmp_path: Path) -> None:
    nb = json.loads((NOTEBOOKS / "basic.ipynb").read_text())
    for cell in nb["cells"]:
        cell["metadata"].pop("tags", None)
    path = tmp_path / "untagged.ipynb"
    path.write_text(json.dumps(nb))
    with pytest.raises(ReportError, match=r"has no cell tagged 'parameters'"):
        read_template_defaults(path)


@pytest.mark.parametrize(("reports", "error", "message"), [
    ('\n  - template: basic\n    grid: {region: [Zwolle]}\n    output: "x.html"\n'
     '  - template: basic\n    grid: {region: [Zwolle]}\n    parameters: {min_n: 3}\n'
     '    output: "x.html"\n', ReportError, r"two reports write the same page 'x.html'"),
    ('\n  - template: basic\n    grid: {region: [Zwolle]}\n    output: "{cohort}.html"\n',
     ReportError, r"output pattern '\{cohort\}.html' uses unknown name\(s\) \['cohort'\]"),
    ('\n  - template: basic\n    grid: {region: [Zwolle]}\n    output: "../{region}.html"\n',
     ReportError, r"must be a relative path inside output_dir"),
    ('\n  - template: team\n    output: "x.html"\n', ReportError,
     r"reports entry 1 names unknown template 'team'"),
    ('\n  - template: basic\n    grid: {region: Zwolle}\n    output: "x.html"\n', ReportError,
     r"grid 'region' must be a list of values"),
    ('\n  - template: basic\n    gird: {region: [Zwolle]}\n    output: "x.html"\n', ReportError,
     r"unknown key\(s\) \['gird'\] in reports entry 1"),
    ('\n  - template: basic\n    grid: {region: [Zwolle]}\n    output: "x.htm"\n', ReportError,
     r"needs an 'output' pattern ending in .html"),
    ('\n  - template: basic\n    grid: {region: {distinct: {dataset: scores, column: Regio}}}\n'
     '    output: "{region}.html"\n', ReportError, r"dataset has no column\(s\) \['Regio'\]"),
    ("\n  - [", ReadError, r"the report plan is not valid YAML"),
])
def test_plan_errors(tmp_path: Path, reports: str, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        load_plan(make_project(tmp_path, reports))


def test_slugify() -> None:
    assert slugify("Gespecialiseerd Medewerker Kinderopvang") == \
        "gespecialiseerd-medewerker-kinderopvang"
    assert slugify("Zwölle / Déventer") == "zwolle-deventer"
    assert slugify("2022-2023") == "2022-2023"
    assert slugify(["nl", "en"]) == "nl-en"


def test_cli_plan_json_lists_every_report_without_running(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plan = make_project(tmp_path, GRID)
    assert main(["reports", "plan", str(plan), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["count"] == 4
    assert data["reports"][0] == {
        "id": "regio/zwolle/nl", "template": "basic", "template_path": "notebooks/basic.ipynb",
        "parameters": {"region": "Zwolle", "min_n": 10, "lang": "nl"},
        "output": "regio/zwolle/nl.html", "title": "Regiorapport Zwolle", "lang": "nl"}
    assert not (tmp_path / "reports").exists()
    assert main(["reports", "plan", str(plan)]) == 0
    assert "regio/deventer/en  [basic]  region='Deventer', min_n=10, lang='en'" in \
        capsys.readouterr().out


def test_cli_build_stops_on_invalid_parameters_before_any_kernel(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plan = make_project(tmp_path, GRID.replace("[Zwolle, Deventer]", "[Zwolle, Kampen]"))
    assert main(["reports", "build", str(plan), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "received str 'Kampen'" in err and "report regio/kampen/nl" in err
    assert not (tmp_path / "reports").exists()


def test_fingerprints_follow_template_parameters_and_inputs(tmp_path: Path) -> None:
    plan_file = make_project(tmp_path, GRID)
    plan = load_plan(plan_file)
    cache = BuildCache(plan.cache_file)
    todo, fresh = plan_jobs(plan, cache)
    assert (len(todo), len(fresh)) == (4, 0)
    for report, key in todo:  # pretend each was built: pages and notebooks exist
        atomic_write(plan.output_dir / report.output, "<html></html>")
        atomic_write(plan.executed_dir / report.output.with_suffix(".ipynb"), "{}")
        cache.record(report.id, key, "ok")
    cache.save()

    def stale(force: bool = False) -> list[str]:
        todo, _ = plan_jobs(load_plan(plan_file), BuildCache(plan.cache_file), force=force)
        return [r.id for r, _ in todo]

    assert stale() == []
    assert len(stale(force=True)) == 4
    data = tmp_path / "data" / "scores.csv"
    data.touch()  # new mtime, same content: rehashed, still fresh
    assert stale() == []
    plan_file.write_text(plan_file.read_text().replace("default: 10,", "default: 12,"))
    assert len(stale()) == 4  # parameters changed
    plan_file.write_text(plan_file.read_text().replace("default: 12,", "default: 10,"))
    assert stale() == []
    data.write_text(data.read_text() + "Zwolle,ZW-2223-01,4.0\n")
    assert len(stale()) == 4  # input data changed
    cache = BuildCache(plan.cache_file)
    for report, key in plan_jobs(load_plan(plan_file), cache)[0]:
        cache.record(report.id, key, "ok")
    cache.save()
    (plan.output_dir / "regio/zwolle/en.html").unlink()  # a page went missing
    assert stale() == ["regio/zwolle/en"]
    nb = tmp_path / "notebooks" / "basic.ipynb"
    nb.write_text(nb.read_text().replace("Een klein sjabloon", "Een klein, nieuw sjabloon"))
    assert len(stale()) == 4  # template changed


def test_missing_input_is_reported_before_running(tmp_path: Path) -> None:
    plan = load_plan(make_project(tmp_path, GRID))
    (tmp_path / "data" / "scores.csv").unlink()
    with pytest.raises(ReportError, match=r"input 'data/scores.csv' of template 'basic' matches "
                       r"no file"):
        plan_jobs(plan, BuildCache(plan.cache_file))
