"""Bad input, refused at the module that parses it: one clear error, nothing written.

Report plans (``reports/plan.py``, ``reports/params.py``), cleaning project files
(``cleaning/project.py``), survey reader options (``io/readers.py``), instrument definitions
(``instruments/registry.py``) and the writers.  Every refused input gets one error that
says what is wrong, where (file, key, option) and how to fix it (``Fix:``).
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

from ipo_research.cleaning.project import _RULE_SHAPES, load_project, run_project
from ipo_research.cleaning.rules import CleaningRules
from ipo_research.cli import main
from ipo_research.errors import (
    CleaningError,
    InstrumentError,
    ParameterError,
    ReadError,
    ReportError,
    WriteError,
)
from ipo_research.instruments import instrument_from_mapping
from ipo_research.io import read_survey, read_yaml, write_parquet
from ipo_research.reports import EngineOptions, load_plan
from ipo_research.reports.params import ParamSpec, read_template_defaults, validate_reports

NOTEBOOKS = Path(__file__).parent / "fixtures" / "notebooks"
KEY = b"validation-test-key-0123456789abcdef"


# ----------------------------------------------------------------------------- report plans
def _plan_data() -> dict[str, Any]:
    """A valid plan for the ``basic`` test template (two regions)."""
    return {
        "datasets": {"scores": "data/scores.csv"},
        "templates": {"basic": {
            "path": "notebooks/basic.ipynb", "inputs": ["scores"],
            "params": {"region": {"type": "str", "choices": ["Zwolle", "Deventer"]},
                       "min_n": {"type": "int", "default": 10, "min": 1},
                       "lang": {"choices": ["nl", "en"], "default": "nl"}}}},
        "reports": [{"template": "basic", "grid": {"region": ["Zwolle", "Deventer"]},
                     "output": "r/{region}.html"}],
    }


def _write_plan(root: Path, data: dict[str, Any]) -> Path:
    (root / "notebooks").mkdir(parents=True, exist_ok=True)
    shutil.copy(NOTEBOOKS / "basic.ipynb", root / "notebooks" / "basic.ipynb")
    (root / "data").mkdir(exist_ok=True)
    rng = np.random.default_rng(20241122)
    pd.DataFrame({"region": rng.choice(["Zwolle", "Deventer"], 20),
                  "score": rng.normal(3.5, 0.6, 20).round(2)}).to_csv(
        root / "data" / "scores.csv", index=False)
    plan = root / "plan.yaml"
    plan.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return plan


def _entry(data: dict[str, Any]) -> dict[str, Any]:
    entry: dict[str, Any] = data["reports"][0]
    return entry


def test_valid_plan_loads(tmp_path: Path) -> None:
    """The base plan of the cases below is valid, so each case fails for its one fault."""
    plan = load_plan(_write_plan(tmp_path, _plan_data()))
    assert [r.id for r in plan.reports] == ["r/zwolle", "r/deventer"]
    assert plan.engine == EngineOptions()


PLAN_SHAPES: dict[str, tuple[Any, str]] = {
    "templates as a list": (
        lambda d: d.update(templates=["basic"]),
        r"'templates' must be a mapping of template name to settings, found a list "
        r"\['basic'\] \(file .*plan\.yaml, key templates\)\. Fix: write e\.g\. 'templates: "),
    "templates as text": (
        lambda d: d.update(templates="basic"),
        r"'templates' must be a mapping .*, found text 'basic' .*key templates\)"),
    "template settings as a list": (
        lambda d: d["templates"].update(basic=["notebooks/basic.ipynb"]),
        r"'templates\.basic' must be a notebook path or a mapping with 'path', found a list"),
    "template inputs as text": (
        lambda d: d["templates"]["basic"].update(inputs="scores"),
        r"'templates\.basic\.inputs' must be a list of dataset names, paths or globs, found "
        r"text 'scores'.*Fix: write e\.g\. 'inputs: \[responses\]'"),
    "template params as a list": (
        lambda d: d["templates"]["basic"].update(params=["region"]),
        r"'params' of template 'basic' must be a mapping of parameter name to its declaration, "
        r"found a list \['region'\].*key templates\.basic\.params"),
    "parameter declaration as a list": (
        lambda d: d["templates"]["basic"]["params"].update(region=["Zwolle"]),
        r"the declaration of parameter 'region' must be a type name or a mapping, found a list"
        r".*parameter region\)\. Fix: "),
    "choices as text": (
        lambda d: d["templates"]["basic"]["params"]["lang"].update(choices="nl"),
        r"'choices' in the declaration of parameter 'lang' must be a list of allowed values, "
        r"found text 'nl'.*Fix: write e\.g\. 'choices: \[nl, en\]'"),
    "min as text": (
        lambda d: d["templates"]["basic"]["params"]["min_n"].update(min="one"),
        r"'min' in the declaration of parameter 'min_n' must be a number, found text 'one'"),
    "nullable as text": (
        lambda d: d["templates"]["basic"]["params"]["min_n"].update(nullable="yes"),
        r"'nullable' .* must be true or false, found text 'yes'"),
    "datasets as a list": (
        lambda d: d.update(datasets=["scores"]),
        r"'datasets' must be a mapping of dataset name to path, found a list \['scores'\] "
        r"\(file .*plan\.yaml, key datasets\)"),
    "dataset path as a list": (
        lambda d: d["datasets"].update(scores=["a.csv", "b.csv"]),
        r"'datasets\.scores' must be text, found a list"),
    "reports as a mapping": (
        lambda d: d.update(reports={"template": "basic"}),
        r"'reports' must be a list of report entries \(each starting with '- template:'\), "
        r"found a mapping"),
    "report entry as text": (
        lambda d: d.update(reports=["basic"]),
        r"reports entry 1 must be a mapping, found text 'basic'"),
    "grid as a list": (
        lambda d: _entry(d).update(grid=["Zwolle", "Deventer"]),
        r"'reports\[1\]\.grid' must be a mapping of parameter name to a list of values, found "
        r"a list \['Zwolle', 'Deventer'\].*Fix: write e\.g\. 'grid: \{region: "),
    "grid as text": (
        lambda d: _entry(d).update(grid="region"),
        r"'reports\[1\]\.grid' must be a mapping .*, found text 'region'"),
    "parameters as a list": (
        lambda d: _entry(d).update(parameters=[{"min_n": 5}]),
        r"'reports\[1\]\.parameters' must be a mapping of parameter name to value, found a "
        r"list"),
    "parameters as a number": (
        lambda d: _entry(d).update(parameters=5),
        r"'reports\[1\]\.parameters' must be a mapping .*, found a number 5"),
    "cases as a mapping": (
        lambda d: _entry(d).update(cases={"min_n": 5}),
        r"'reports\[1\]\.cases' must be a list of parameter mappings, found a mapping "
        r"\{'min_n': 5\}.*Fix: write e\.g\. 'cases: \[\{min_n: 5\}, \{min_n: 20\}\]'"),
    "a case as a number": (
        lambda d: _entry(d).update(cases=[{"min_n": 5}, 20]),
        r"'reports\[1\]\.cases\[2\]' must be a mapping of parameter name to value, found a "
        r"number 20"),
    "output as a list": (
        lambda d: _entry(d).update(output=["a.html"]),
        r"reports entry 1 needs an 'output' pattern ending in \.html.*key reports\[1\]\.output"),
    "distinct as text": (
        lambda d: _entry(d).update(grid={"region": {"distinct": "scores"}}),
        r"'grid\.region\.distinct' must be a mapping with 'dataset' and 'column', found text"),
    "distinct with unknown key": (
        lambda d: _entry(d).update(grid={"region": {"distinct": {
            "dataset": "scores", "column": "region", "filter": {"region": "Zwolle"}}}}),
        r"unknown key\(s\) \['filter'\] in grid 'region' 'distinct'.*allowed keys: "
        r"\['column', 'dataset', 'where'\]"),
    "distinct where as a list": (
        lambda d: _entry(d).update(grid={"region": {"distinct": {
            "dataset": "scores", "column": "region", "where": ["Zwolle"]}}}),
        r"'grid\.region\.distinct\.where' must be a mapping of column name to value, found a "
        r"list"),
    "distinct where value as a list": (
        lambda d: _entry(d).update(grid={"region": {"distinct": {
            "dataset": "scores", "column": "region", "where": {"region": ["Zwolle"]}}}}),
        r"grid 'region': 'where' value of column 'region' must be one value.*found a list"),
    "root as a list": (
        lambda d: d.update(root=[".."]),
        r"'root' must be text, found a list \['\.\.'\] \(file .*key root\)\. Fix: write e\.g\. "
        r"'root: \.\.'"),
    "engine as a list": (
        lambda d: d.update(engine=["python3"]),
        r"'engine' must be a mapping of engine options, found a list \['python3'\] "
        r"\(file .*plan\.yaml, key engine\)"),
    "engine as text": (
        lambda d: d.update(engine="fast"),
        r"'engine' must be a mapping of engine options, found text 'fast'"),
}


@pytest.mark.parametrize("case", sorted(PLAN_SHAPES))
def test_wrong_shaped_plan_is_refused_naming_the_key(tmp_path: Path, case: str) -> None:
    edit, message = PLAN_SHAPES[case]
    data = _plan_data()
    edit(data)
    plan = _write_plan(tmp_path, data)
    with pytest.raises(ReportError, match=message) as info:
        load_plan(plan)
    assert info.value.file == str(plan)
    assert info.value.hint
    assert not (tmp_path / ".ipo_cache").exists()  # a refused plan writes nothing


ENGINE_CASES: list[tuple[dict[str, Any], str]] = [
    ({"recycle_after": "many"},
     r"engine option 'recycle_after' must be a whole number >= 1, found text 'many' "
     r"\(file .*key engine\.recycle_after\)\. Fix: write e\.g\. 'recycle_after: 25' under "
     r"'engine:'"),
    ({"recycle_after": 0}, r"'recycle_after' must be a whole number >= 1, found a number 0"),
    ({"recycle_after": 2.5}, r"'recycle_after' must be a whole number >= 1, found a number 2\.5"),
    ({"recycle_after": True}, r"'recycle_after' must be .*, found a boolean True"),
    ({"cell_timeout": -1}, r"'cell_timeout' must be a whole number of seconds >= 1, or null "
                           r"for no limit, found a number -1"),
    ({"cell_timeout": "600"}, r"'cell_timeout' .* found text '600'"),
    ({"startup_timeout": 0}, r"'startup_timeout' must be a whole number of seconds >= 1"),
    ({"seed": -1}, r"'seed' must be a whole number from 0 to 4294967295, found a number -1"),
    ({"seed": 2**32}, r"'seed' must be a whole number from 0 to 4294967295"),
    ({"seed": "42"}, r"'seed' .* found text '42'"),
    ({"kernel": ""}, r"'kernel' must be a Jupyter kernel name \(text\), found text ''"),
    ({"kernel": 3}, r"'kernel' must be a Jupyter kernel name \(text\), found a number 3"),
    ({"preload": "numpy"},
     r"'preload' must be a list of module names, found text 'numpy'.*Fix: write e\.g\. "
     r"'preload: \[numpy, pandas, matplotlib\.pyplot\]'"),
    ({"preload": ["numpy", "os; os.remove('x')"]},
     r"'preload' must be a list of module names, found text \"os; os\.remove\('x'\)\""),
    ({"preload": [3]}, r"'preload' must be a list of module names, found a number 3"),
    ({"workers": 2}, r"invalid 'engine' options: unknown option\(s\) \['workers'\].*"
                     r"Fix: allowed: \['cell_timeout', 'kernel', 'preload', 'recycle_after', "
                     r"'seed', 'startup_timeout'\]"),
]


@pytest.mark.parametrize(("options", "message"), ENGINE_CASES)
def test_engine_options_are_type_and_range_checked(
    tmp_path: Path, options: dict[str, Any], message: str
) -> None:
    data = _plan_data()
    data["engine"] = options
    with pytest.raises(ReportError, match=message):
        load_plan(_write_plan(tmp_path, data))


def test_valid_engine_options_are_taken(tmp_path: Path) -> None:
    data = _plan_data()
    data["engine"] = {"kernel": "python3", "recycle_after": 3, "cell_timeout": None,
                      "startup_timeout": 30, "preload": [], "seed": 2**32 - 1}
    engine = load_plan(_write_plan(tmp_path, data)).engine
    assert engine == EngineOptions(recycle_after=3, cell_timeout=None, startup_timeout=30,
                                   preload=(), seed=2**32 - 1)
    data["engine"] = None  # an empty 'engine:' means the defaults
    assert load_plan(_write_plan(tmp_path, data)).engine == EngineOptions()


def test_engine_options_built_in_code_are_checked_too() -> None:
    with pytest.raises(ReportError, match=r"'recycle_after' must be a whole number >= 1, "
                                          r"found a number 0 \(key engine\.recycle_after\)"):
        EngineOptions(recycle_after=0)
    assert EngineOptions(preload=["numpy"]).preload == ("numpy",)  # type: ignore[arg-type]


def test_cli_plan_with_ill_typed_engine_option_is_one_clear_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _plan_data()
    data["engine"] = {"recycle_after": "many"}
    plan = _write_plan(tmp_path, data)
    assert main(["reports", "plan", str(plan)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unexpected" not in err
    assert "engine option 'recycle_after' must be a whole number >= 1, found text 'many'" in err
    assert f"file {plan}" in err and "Fix: write e.g. 'recycle_after: 25'" in err


def test_template_that_is_not_a_notebook_is_refused(tmp_path: Path) -> None:
    fake = tmp_path / "list.ipynb"
    fake.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(ReportError, match=r"the report template is JSON but not a Jupyter "
                                          r"notebook \(found a list \[1, 2\]\).*Fix: give the "
                                          r"path of an \.ipynb notebook"):
        read_template_defaults(fake)
    fake.write_text('{"cells": [{"cell_type": "code", "source": 5, '
                    '"metadata": {"tags": ["parameters"]}}]}', encoding="utf-8")
    with pytest.raises(ReportError, match=r"the parameters cell's source must be text, found a "
                                          r"number 5"):
        read_template_defaults(fake)


# ----------------------------------------------------------------------------- grouped problems
def _grid(n: int) -> list[tuple[str, dict[str, ParamSpec], dict[str, Any]]]:
    specs = {"team": ParamSpec("team", "str"), "min_n": ParamSpec("min_n", "int", min=1)}
    return [(f"team/t{i:02d}", specs, {"team": f"T{i:02d}", "min_n": 0}) for i in range(n)]


def test_one_bad_parameter_on_a_grid_is_reported_once() -> None:
    with pytest.raises(ParameterError) as info:
        validate_reports(_grid(15), file="plan.yaml")
    message = str(info.value)
    assert message.count("below the minimum") == 1
    assert message.startswith(
        "15 invalid report parameter(s) in 15 report(s), 1 distinct problem(s): "
        "(1) [15 reports] report 'team/t00', report 'team/t01', report 'team/t02' and 12 more: "
        "parameter 'min_n' below the minimum 1; expected int >= 1, received int 0 "
        "(file plan.yaml, report team/t00, parameter min_n). Fix: ")


def test_distinct_problems_each_get_a_line_in_order_first_met() -> None:
    reports = _grid(4)
    reports[2][2]["team"] = 7          # another problem in one report
    reports[3][2]["colour"] = "red"    # and an unknown parameter in another
    with pytest.raises(ParameterError, match=(
        r"^6 invalid report parameter\(s\) in 4 report\(s\), 3 distinct problem\(s\): "
        r"\(1\) \[4 reports\] report 'team/t00', report 'team/t01', report 'team/t02' and 1 "
        r"more: parameter 'min_n' below the minimum 1; .*; "
        r"\(2\) report 'team/t02': parameter 'team' wrong type; expected str, received int 7; "
        r"\(3\) report 'team/t03': unknown parameter 'colour' \(received str 'red'\)")):
        validate_reports(reports)


def test_many_distinct_problems_are_cut_after_five() -> None:
    specs = {"n": ParamSpec("n", "int", max=1)}
    reports = [(f"r{i}", specs, {"n": 10 + i}) for i in range(8)]
    with pytest.raises(ParameterError, match=r"^8 invalid .*8 distinct problem\(s\): \(1\) "
                       r"report 'r0'.*\(5\) report 'r4': parameter 'n' above the maximum 1; "
                       r"expected int <= 1, received int 14; and 3 more distinct problem\(s\) "
                       r"\(report r0, parameter n\)"):
        validate_reports(reports)


def test_grouped_problems_from_a_plan(tmp_path: Path) -> None:
    data = _plan_data()
    _entry(data).update(grid={"region": ["Zwolle", "Deventer"]}, parameters={"min_n": "ten"})
    with pytest.raises(ParameterError, match=r"^2 invalid report parameter\(s\) in 2 report\(s\)"
                       r", 1 distinct problem\(s\): \(1\) \[2 reports\] report 'r/zwolle', "
                       r"report 'r/deventer': parameter 'min_n' wrong type; expected int >= 1, "
                       r"received str 'ten' \("):
        load_plan(_write_plan(tmp_path, data))


# ----------------------------------------------------------------------------- project files
def _project(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "project.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def _project_data(**export: Any) -> dict[str, Any]:
    settings = {"path": "raw/ripls.csv", "instrument": "RIPLS", "items": "Vraag {n}", **export}
    return {"name": "toy", "root": ".", "defaults": {"respondent": "Studentnummer",
                                                     "wave": "Meting"},
            "exports": {"a": {k: v for k, v in settings.items() if v is not None}}}


PROJECT_SHAPES: dict[str, tuple[dict[str, Any], str]] = {
    "rules as text": (
        {"rules": "drop speeders"},
        r"'exports\.a\.rules' must be a mapping of cleaning rules, found text 'drop speeders' "
        r"\(file .*project\.yaml, key exports\.a\.rules\)\. Fix: write e\.g\. 'rules: "
        r"\{speeders: flag, keep: \[Regio\]\}'"),
    "rules as a list": (
        {"rules": ["speeders"]}, r"'exports\.a\.rules' must be a mapping of cleaning rules, "
                                 r"found a list"),
    "columns as a list": (
        {"columns": ["Vraag 1"]},
        r"'exports\.a\.columns' must map raw column names to output names, found a list"),
    "column target as a list": (
        {"columns": {"Vraag 1": ["q1"]}},
        r"'exports\.a\.columns' must map raw column names to output names, found a mapping"),
    "wave as a list": (
        {"wave": ["Meting"]},
        r"'exports\.a\.wave' must be one value \(text\), found a list \['Meting'\] \(.*key "
        r"exports\.a\.wave\)\. Fix: write e\.g\. 'wave: Meting'"),
    "path as a mapping": (
        {"path": {"csv": "raw/ripls.csv"}}, r"'exports\.a\.path' must be one value \(text\)"),
    "keep as text": (
        {"rules": {"keep": "Regio"}},
        r"cleaning rule 'keep' has a value of the wrong type: expected a list of names or "
        r"answers, or null, found text 'Regio' \(.*key exports\.a\.rules\.keep\)\. Fix: write "
        r"a list, even of one name: keep: \[Regio\]"),
    "speeders: off read as false": (
        {"rules": {"speeders": False}},
        r"cleaning rule 'speeders' has a value of the wrong type: expected text, found a "
        r"boolean False.*Fix: YAML reads off/no/false as a boolean: put the word in quotes, "
        r"e\.g\. speeders: 'off'"),
    "fraction as text": (
        {"rules": {"speeder_fraction": "a third"}},
        r"cleaning rule 'speeder_fraction' has a value of the wrong type: expected a number, "
        r"found text 'a third'.*Fix: write e\.g\. 'speeder_fraction: 0\.333'"),
    "min items as a float": (
        {"rules": {"straightline_min_items": 4.5}},
        r"'straightline_min_items' .* expected a whole number, or null, found a number 4\.5"),
    "strict as text": (
        {"rules": {"strict": "yes"}},
        r"'strict' has a value of the wrong type: expected true or false, found text 'yes'"),
    "waves as a list": (
        {"rules": {"waves": ["voormeting", "nameting"]}},
        r"'waves' .* expected a mapping of raw label to name, found a list"),
}


@pytest.mark.parametrize("case", sorted(PROJECT_SHAPES))
def test_wrong_shaped_project_is_refused_naming_the_key(tmp_path: Path, case: str) -> None:
    export, message = PROJECT_SHAPES[case]
    path = _project(tmp_path, _project_data(**export))
    with pytest.raises(CleaningError, match=message) as info:
        load_project(path)
    assert info.value.file == str(path) and info.value.hint


@pytest.mark.parametrize(("change", "message"), [
    ({"name": ["toy"]}, r"'name' must be one value \(text\), found a list.*key name\)"),
    ({"defaults": [1]}, r"'defaults' must be a mapping, found a list \[1\].*Fix: write export "
                        r"settings under it"),
    ({"defaults": {"respondent": "Studentnummer", "wave": "Meting", "rules": "strict"}},
     r"'defaults\.rules' must be a mapping of cleaning rules, found text 'strict'"),
    ({"name": "a/b"}, r"project name 'a/b' cannot name a folder.*Fix: use a plain name"),
    ({"exports": {"a": "raw/ripls.csv"}},
     r"export 'a' must be a mapping of settings, found text 'raw/ripls\.csv'.*Fix: write e\.g\. "
     r"'a: \{path: data/raw/a\.csv, instrument: RIPLS"),
    ({"exports": {".hidden": {"path": "x.csv", "instrument": "RIPLS"}}},
     r"export name '\.hidden' cannot name a file.*Fix: use a plain name"),
    ({"exports": {"a": {"path": "raw/ripls.csv"}}},
     r"export 'a' has no 'instrument'.*key exports\.a\.instrument\)\. Fix: set it on the export "
     r"or under 'defaults', e\.g\. 'instrument: RIPLS'"),
])
def test_project_level_errors_name_the_key_and_say_how_to_fix(
    tmp_path: Path, change: dict[str, Any], message: str
) -> None:
    data = _project_data()
    data.update(change)
    with pytest.raises(CleaningError, match=message):
        load_project(_project(tmp_path, data))


def test_every_cleaning_rule_has_a_shape() -> None:
    """A new CleaningRules field without a shape check would slip past the project check."""
    assert set(_RULE_SHAPES) == {f.name for f in dataclasses.fields(CleaningRules)}


def test_cli_clean_with_rules_as_text_is_one_clear_line_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    key = tmp_path / "keys" / "k.key"
    key.parent.mkdir()
    key.write_text("ab" * 32 + "\n", encoding="ascii")
    path = _project(tmp_path, _project_data(rules="drop speeders"))
    before = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*"))
    assert main(["clean", str(path), "--key-file", str(key)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unexpected" not in err
    assert "'exports.a.rules' must be a mapping of cleaning rules, found text" in err
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")) == before


# ----------------------------------------------------------------------------- read options
def _csv(tmp_path: Path) -> Path:
    path = tmp_path / "export.csv"
    path.write_text("Studentnummer;Meting;Vraag 1\n1234567;voormeting;4\n", encoding="utf-8")
    return path


def _xlsx(tmp_path: Path) -> Path:
    path = tmp_path / "export.xlsx"
    pd.DataFrame({"Studentnummer": ["1234567"], "Vraag 1": [4]}).to_excel(path, index=False)
    return path


@pytest.mark.parametrize(("kind", "options", "message"), [
    ("csv", {"sheet": "Resultaten"},
     r"sheet='Resultaten' does not apply to a text \(CSV\) file \(\.csv\): only Excel "
     r"workbooks have sheets; a CSV or SPSS file holds one table \(file .*export\.csv, option "
     r"sheet\)\. Fix: leave out sheet= for this file \(it applies to \.xlsx, \.xlsm files\)"),
    ("csv", {"sheet": 0}, r"sheet=0 does not apply to a text \(CSV\) file"),
    ("xlsx", {"sep": ";"}, r"sep=';' does not apply to an Excel file \(\.xlsx\): only CSV "
                           r"files have a field separator"),
    ("xlsx", {"decimal": ","}, r"decimal=',' does not apply to an Excel file"),
    ("xlsx", {"encoding": "cp1252"},
     r"encoding='cp1252' does not apply to an Excel file \(\.xlsx\): an Excel workbook stores "
     r"its own encoding"),
    ("xlsx", {"text_columns": ["Studentnummer"]},
     r"text_columns=\['Studentnummer'\] does not apply to an Excel file"),
    ("csv", {"sep": ";;"}, r"sep=';;' is not valid: it must be one character.*option sep\)\. "
                           r"Fix: write e\.g\. sep=';'"),
    ("csv", {"decimal": "·"}, r"decimal='·' is not valid: it must be '\.' or ','"),
    ("csv", {"text_columns": "Studentnummer"},
     r"text_columns='Studentnummer' is not valid: it must be a list of column names"),
    ("xlsx", {"sheet": True}, r"sheet=True is not valid: it must be a sheet name or a 0-based"),
])
def test_read_options_that_would_be_ignored_or_misread_are_refused(
    tmp_path: Path, kind: str, options: dict[str, Any], message: str
) -> None:
    path = _csv(tmp_path) if kind == "csv" else _xlsx(tmp_path)
    with pytest.raises(ReadError, match=message):
        read_survey(path, **options)


def test_read_options_that_apply_are_taken(tmp_path: Path) -> None:
    assert read_survey(_csv(tmp_path), sep=";", decimal=",", encoding="utf-8",
                       text_columns=["Studentnummer"]).loc[0, "Studentnummer"] == "1234567"
    assert read_survey(_xlsx(tmp_path), sheet=0).attrs["sheet"] == "Sheet1"


def test_project_refuses_sheet_on_a_csv_export_but_defaults_apply_by_type(
    tmp_path: Path
) -> None:
    with pytest.raises(CleaningError, match=r"'sheet' does not apply to export 'a': \.csv files "
                       r"have no sheet setting \(sheet applies to \.xlsx, \.xlsm files\) "
                       r"\(file .*project\.yaml, key exports\.a\.sheet\)\. Fix: remove 'sheet' "
                       r"from export 'a'"):
        load_project(_project(tmp_path, _project_data(sheet="Resultaten")))
    data = _project_data()
    data["defaults"]["sheet"] = "Resultaten"        # for the Excel exports of the project
    data["exports"]["b"] = {"path": "raw/b.xlsx", "instrument": "ICCAS"}
    _, _, _, specs = load_project(_project(tmp_path, data))
    assert [dict(s.read_options) for s in specs] == [{}, {"sheet": "Resultaten"}]


def test_unclosed_quote_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "q.csv"
    path.write_text('a;b\n1;2\n"3;4\n5;6\n', encoding="utf-8")
    with pytest.raises(ReadError, match=r"a quoted field is never closed: the file ends inside "
                                        r"it \(file .*q\.csv, line 3\)\. Fix: close the quote"):
        read_survey(path)


def test_yaml_path_that_is_a_folder(tmp_path: Path) -> None:
    with pytest.raises(ReadError, match=r"this is a folder, not a file.*Fix: give the path of "
                                        r"the YAML file itself"):
        read_yaml(tmp_path)


# ----------------------------------------------------------------------------- writers
def test_failed_conversion_says_which_column_and_how_to_fix(tmp_path: Path) -> None:
    target = tmp_path / "processed" / "x.parquet"
    mixed = pd.DataFrame({"x": pd.Series([1, "a", 2.5], dtype=object)})
    with pytest.raises(WriteError, match=r"writing failed, the previous file \(if any\) is "
                       r"unchanged: .*column x.*Fix: the data could not be converted to this "
                       r"file format: check the column types"):
        write_parquet(mixed, target)
    assert list(target.parent.iterdir()) == []  # no temporary file left behind


# ----------------------------------------------------------------------------- instruments
_BASE = {"name": "X", "scale": {"min": 1, "max": 5}, "items": ["q1", "q2", "q3"]}


@pytest.mark.parametrize(("change", "message"), [
    ({"items": ["q1", "", "q3"]}, r"'items' holds an empty name.*Fix: remove the empty entry"),
    ({"scale": {"min": 1, "max": 5, "labels": {1: ["a", "b", "c", "d", "e"]}}},
     r"'scale\.labels' has a language code 1 that is not text.*Fix: use a language code such "
     r"as nl or en"),
    ({"description": ["a", "b"]}, r"'description' must be text, got list.*Fix: write it on one "
                                  r"line"),
    ({"name": " "}, r"'name' is empty.*Fix: give the instrument a name"),
    ({"subscales": {1: ["q1"]}}, r"subscale name 1 is not text.*Fix: name each subscale"),
    ({"subscales": {"A": []}}, r"subscale 'A' has no items.*Fix: list its items"),
    ({"retrospective": ["_before"]}, r"'retrospective' must be a mapping.*Fix: write "
                                     r"'retrospective: \{before: _before, now: _now\}'"),
    ({"retrospective": {"before": "_x", "now": "_x"}},
     r"'retrospective\.before' and 'retrospective\.now' must differ.*Fix: use two different"),
    ({"scale": {"min": 1, "max": 2, "labels": {"nl": ["ja", "nee"]}}, "na_labels": ["Nee"]},
     r"N/A label 'Nee' is also a response label.*Fix: remove 'Nee' from 'na_labels'"),
    ({"item_labels": ["q1"]}, r"'item_labels' must map an item.*Fix: write e\.g\. 'item_labels:"),
    ({"unverified": ["colour"]}, r"'unverified' names 'colour', which is not a key.*Fix: valid "
                                 r"keys: name, description"),
    ({"variants": {"V2": ["q1"]}}, r"'variants\.V2' must be a mapping of the keys it changes.*"
                                   r"Fix: write e\.g\. 'variants\.V2: \{reverse: \[q1, q2\]\}'"),
])
def test_instrument_errors_say_how_to_fix(change: dict[str, Any], message: str) -> None:
    with pytest.raises(InstrumentError, match=message) as info:
        instrument_from_mapping({**_BASE, **change}, source="my.yaml")
    assert info.value.file == "my.yaml"


def test_project_run_with_bad_shape_writes_nothing(tmp_path: Path) -> None:
    (tmp_path / "raw").mkdir()
    _csv(tmp_path).rename(tmp_path / "raw" / "ripls.csv")
    path = _project(tmp_path, _project_data(rules={"identifiers": "Naam"}))
    with pytest.raises(CleaningError, match=r"cleaning rule 'identifiers' has a value of the "
                                            r"wrong type.*identifiers: \[Naam\]"):
        run_project(path, key=KEY)
    assert not (tmp_path / "data").exists()
