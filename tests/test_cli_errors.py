"""Bad input at the command line: exit code 2, one line (what, where, ``Fix:``), nothing written.

Every subcommand of ``ipo-research`` is given bad input: a missing file, an unknown option,
a wrong type, a project naming a missing export, a project with an unknown key, a project
mapping a missing column, an instrument with an unknown item in a subscale, a report plan
with an unknown or ill-typed parameter, a key file that already exists, and more.  Each case
checks that the program

* exits with code 2 (never a traceback, never code 0),
* prints exactly one line on stderr and nothing on stdout,
* names what is wrong and where (the file, key, column or parameter), with ``Fix:``,
* writes nothing: the whole working folder is byte-identical afterwards.

A valid workspace is checked first (``test_valid_workspace_succeeds``), so each bad case
fails for the one fault it injects.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
import yaml

from ipo_research.cli import DEBUG_ENV, main

ROOT = Path(__file__).resolve().parents[1]
LEERTEAM_NOTEBOOK = ROOT / "notebooks" / "03_leerteam.ipynb"
ITEMS = [f"Vraag {i}" for i in range(1, 20)]
COMMANDS = ("synth", "instruments", "keygen", "clean", "reports")


# ----------------------------------------------------------------------------- workspace
@dataclass(frozen=True)
class Workspace:
    """A folder with a key, a small RIPLS export, a project, an instrument and a plan."""

    root: Path

    @property
    def key(self) -> Path:
        return self.root / "keys" / "project.key"

    @property
    def export(self) -> Path:
        return self.root / "raw" / "ripls.csv"

    @property
    def dataset(self) -> Path:
        return self.root / "processed" / "teams.parquet"

    def project(self, name: str = "project", **changes: object) -> Path:
        """Write a project file; ``changes`` update the export ``a`` (None deletes a key)."""
        export: dict[str, object] = {"path": "raw/ripls.csv", "instrument": "RIPLS",
                                     "items": "Vraag {n}"}
        for key, value in changes.items():
            if value is None:
                export.pop(key, None)
            else:
                export[key] = value
        data = {"name": "test", "root": ".", "output": "out/processed",
                "defaults": {"respondent": "Studentnummer", "wave": "Meting"},
                "exports": {"a": export}}
        return self.write_yaml(f"{name}.yaml", data)

    def plan(self, name: str = "plan", edit: Callable[[dict], None] | None = None) -> Path:
        """Write a report plan for the leerteam template; ``edit`` changes it in place."""
        params = {
            "data_dir": {"type": "str", "default": "processed"},
            "leerteam": {"type": "str"},
            "instrument": {"type": "str", "choices": ["RIPLS", "ICCAS"], "default": "RIPLS"},
            "score": {"type": "str", "default": "total"},
            "min_n": {"type": "int", "default": 10, "min": 1},
            "lang": {"type": "str", "choices": ["nl", "en"], "default": "nl"},
        }
        data: dict = {
            "root": ".", "output_dir": "out/reports", "executed_dir": "out/executed",
            "log_dir": "out/logs", "cache": "out/cache/reports.json",
            "datasets": {"teams": "processed/teams.parquet"},
            "templates": {"leerteam": {"path": str(LEERTEAM_NOTEBOOK), "inputs": ["teams"],
                                       "params": params}},
            "reports": [{"template": "leerteam",
                         "grid": {"leerteam": {"distinct": {"dataset": "teams",
                                                            "column": "Leerteam"}}},
                         "output": "leerteam/{leerteam}.html"}],
        }
        if edit is not None:
            edit(data)
        return self.write_yaml(f"{name}.yaml", data)

    def write_yaml(self, name: str, data: object) -> Path:
        path = self.root / name
        path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False),
                        encoding="utf-8")
        return path

    def write_text(self, name: str, text: str) -> Path:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path


def _export_csv() -> str:
    """A small, clean RIPLS export in Dutch Excel CSV form (12 students, two waves)."""
    header = ["Studentnummer", "Meting", "Duur (sec)", *ITEMS]
    rows = [";".join(header)]
    for i in range(24):
        wave = "voormeting" if i < 12 else "nameting"
        answers = [str(1 + (i * 7 + j * 3) % 5) for j in range(19)]
        rows.append(";".join([f"{1200000 + i % 12:07d}", wave, f"{300 + 7 * i},0", *answers]))
    return "\r\n".join(rows) + "\r\n"


@pytest.fixture
def ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    """A fresh workspace as the working folder, with no key in the environment."""
    for name in ("IPO_RESEARCH_KEY", "IPO_RESEARCH_KEY_FILE", DEBUG_ENV):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    space = Workspace(tmp_path)
    space.key.parent.mkdir()
    space.key.write_text("ab" * 32 + "\n", encoding="ascii")
    space.write_text("raw/ripls.csv", _export_csv())
    space.dataset.parent.mkdir()
    pd.DataFrame({"respondent": ["a", "b", "c"], "Leerteam": ["ZW-2122-01", "ZW-2122-02", None]}
                 ).to_parquet(space.dataset)
    space.write_text("instrument.yaml", "name: MYSCALE\nscale: {min: 1, max: 5}\n"
                                        "items: [q1, q2, q3, q4]\nreverse: [q3]\n"
                                        "subscales: {A: [q1, q2], B: [q3, q4]}\n")
    return space


def _snapshot(folder: Path) -> dict[str, str]:
    """Every file (with its SHA-256) and every folder below ``folder``."""
    return {p.relative_to(folder).as_posix(): (hashlib.sha256(p.read_bytes()).hexdigest()
                                               if p.is_file() else "folder")
            for p in sorted(folder.rglob("*"))}


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Run ``ipo-research argv``; return exit code, stdout and stderr."""
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse errors
        code = exc.code if isinstance(exc.code, int) else 1
    out, err = capsys.readouterr()
    return code, out, err


# ----------------------------------------------------------------------------- the valid baseline
def test_valid_workspace_succeeds(ws: Workspace, capsys: pytest.CaptureFixture[str]) -> None:
    """Without a fault every command works: the bad cases below fail for their fault only."""
    code, out, err = run_cli(["instruments", "instrument.yaml"], capsys)
    assert (code, err) == (0, "")
    assert "MYSCALE: 4 items" in out
    code, out, err = run_cli(["clean", str(ws.project()), "--key-file", str(ws.key)], capsys)
    assert (code, err) == (0, ""), err
    assert (ws.root / "out" / "processed" / "a.parquet").is_file()
    code, out, err = run_cli(["reports", "plan", str(ws.plan()), "--json"], capsys)
    assert (code, err) == (0, ""), err
    assert [r["id"] for r in yaml.safe_load(out)["reports"]] == [
        "leerteam/zw-2122-01", "leerteam/zw-2122-02"]
    code, out, err = run_cli(["keygen", str(ws.root / "keys" / "new.key")], capsys)
    assert (code, err) == (0, "")
    code, out, err = run_cli(["synth", "--out", str(ws.root / "synth"), "--scale", "0.05"],
                             capsys)
    assert (code, err) == (0, ""), err


# ----------------------------------------------------------------------------- bad cases
#: A case: build the argument list in the workspace, and the texts the error line must hold.
Case = Callable[[Workspace], tuple[list[str], list[str]]]


def _occupied(ws: Workspace) -> Path:
    ws.write_text("occupied/notes.txt", "not synthetic data")
    return ws.root / "occupied"


def _in_git_repo(ws: Workspace) -> Path:
    (ws.root / "repo" / ".git").mkdir(parents=True)
    return ws.root / "repo" / "project.key"


CASES: dict[str, Case] = {
    # synth
    "synth unknown option": lambda ws: (
        ["synth", "--colour", "red"], ["unrecognized arguments: --colour red",
                                       "Fix: see 'ipo-research synth --help'"]),
    "synth wrong type": lambda ws: (
        ["synth", "--scale", "abc"], ["--scale", "invalid float value: 'abc'"]),
    "synth scale out of range": lambda ws: (
        ["synth", "--scale", "-1", "--out", "new"], ["scale", "-1", "(0, 20]"]),
    "synth negative seed": lambda ws: (
        ["synth", "--seed", "-3", "--out", "new"], ["seed", "-3"]),
    "synth folder with other data": lambda ws: (
        ["synth", "--out", str(_occupied(ws))], [str(ws.root / "occupied"), "notes.txt",
                                                 "--force"]),
    "synth out is a file": lambda ws: (
        ["synth", "--out", str(ws.export)], [str(ws.export), "not a folder"]),
    # instruments
    "instruments unknown name": lambda ws: (
        ["instruments", "NOPE"], ["unknown instrument 'NOPE'", "RIPLS"]),
    "instruments missing file": lambda ws: (
        ["instruments", "missing.yaml"], ["file not found", "missing.yaml"]),
    "instruments unknown item in subscale": lambda ws: (
        ["instruments", str(ws.write_text(
            "bad.yaml", "name: X\nscale: {min: 1, max: 5}\nitems: [q1, q2]\n"
                        "subscales: {A: [q1, q9]}\n"))],
        ["unknown item 'q9'", "subscales.A", "bad.yaml"]),
    "instruments min not below max": lambda ws: (
        ["instruments", str(ws.write_text(
            "bad.yaml", "name: X\nscale: {min: 5, max: 1}\nitems: [q1, q2]\n"))],
        ["scale.min", "bad.yaml"]),
    "instruments duplicate item": lambda ws: (
        ["instruments", str(ws.write_text(
            "bad.yaml", "name: X\nscale: {min: 1, max: 5}\nitems: [q1, q2, q1]\n"))],
        ["q1", "bad.yaml"]),
    "instruments wrong type": lambda ws: (
        ["instruments", str(ws.write_text(
            "bad.yaml", "name: X\nscale: {min: one, max: 5}\nitems: [q1, q2]\n"))],
        ["scale.min", "whole number", "'one'", "bad.yaml"]),
    "instruments invalid yaml": lambda ws: (
        ["instruments", str(ws.write_text("bad.yaml", "name: X\nitems: [q1, q2\n"))],
        ["YAML", "bad.yaml", "row"]),
    # keygen
    "keygen existing key file": lambda ws: (
        ["keygen", str(ws.key)], ["already exists", str(ws.key)]),
    "keygen inside a git work tree": lambda ws: (
        ["keygen", str(_in_git_repo(ws))], ["git work tree", str(ws.root / "repo")]),
    "keygen missing argument": lambda ws: (["keygen"], ["required: key_file"]),
    # clean
    "clean missing project file": lambda ws: (
        ["clean", "missing.yaml"], ["file not found: missing.yaml"]),
    "clean unknown option": lambda ws: (
        ["clean", str(ws.project()), "--colour"], ["unrecognized arguments: --colour",
                                                   "Fix: see 'ipo-research clean --help'"]),
    "reports build unknown option": lambda ws: (
        ["reports", "build", str(ws.plan()), "--fast"],
        ["unrecognized arguments: --fast", "Fix: see 'ipo-research reports build --help'"]),
    "clean without key": lambda ws: (
        ["clean", str(ws.project())], ["no pseudonymisation key", "keygen"]),
    "clean missing key file": lambda ws: (
        ["clean", str(ws.project()), "--key-file", "nokey"], ["key file not found", "nokey"]),
    "clean key file too short": lambda ws: (
        ["clean", str(ws.project()), "--key-file", str(ws.write_text("keys/short", "abc\n"))],
        ["too short", "short"]),
    "clean project names a missing export": lambda ws: (
        ["clean", str(ws.project(path="raw/missing.csv")), "--key-file", str(ws.key)],
        ["file not found", str(ws.root / "raw" / "missing.csv")]),
    "clean project with unknown key": lambda ws: (
        ["clean", str(ws.project(colour="red")), "--key-file", str(ws.key)],
        ["unknown key 'exports.a.colour'", "project.yaml"]),
    "clean project maps a missing column": lambda ws: (
        ["clean", str(ws.project(columns={"Vraag 99": "q1"})), "--key-file", str(ws.key)],
        ["mapped column not in the export", "'Vraag 99'", "ripls.csv"]),
    "clean project names a missing respondent column": lambda ws: (
        ["clean", str(ws.project(respondent="Studentnr")), "--key-file", str(ws.key)],
        ["respondent column", "'Studentnr'", "ripls.csv"]),
    "clean project without instrument": lambda ws: (
        ["clean", str(ws.project(instrument=None)), "--key-file", str(ws.key)],
        ["has no 'instrument'", "exports.a.instrument", "project.yaml"]),
    "clean instrument with unknown item in subscale": lambda ws: (
        ["clean", str(ws.project(instrument=str(ws.write_text(
            "bad.yaml", "name: X\nscale: {min: 1, max: 5}\nitems: [q1, q2]\n"
                        "subscales: {A: [q1, q9]}\n")))), "--key-file", str(ws.key)],
        ["unknown item 'q9'", "subscales.A", "bad.yaml"]),
    "clean rule of the wrong type": lambda ws: (
        ["clean", str(ws.project(rules={"speeder_fraction": "a third"})),
         "--key-file", str(ws.key)],
        ["wrong type", "rules", "project.yaml"]),
    "clean rules not a mapping": lambda ws: (
        ["clean", str(ws.project(rules="drop speeders")), "--key-file", str(ws.key)],
        ["project.yaml"]),
    "clean unknown rule": lambda ws: (
        ["clean", str(ws.project(rules={"speed": 1})), "--key-file", str(ws.key)],
        ["unknown cleaning rule 'speed'", "project.yaml"]),
    "clean output inside data/raw": lambda ws: (
        ["clean", str(ws.project()), "--key-file", str(ws.key), "--out", "data/raw/x"],
        ["data/raw", "read-only"]),
    "clean invalid project yaml": lambda ws: (
        ["clean", str(ws.write_text("bad.yaml", "name: [x\n")), "--key-file", str(ws.key)],
        ["YAML", "bad.yaml"]),
}


def _set_parameters(values: dict) -> Callable[[dict], None]:
    def edit(plan: dict) -> None:
        plan["reports"][0]["parameters"] = values
    return edit


PLAN_CASES: dict[str, tuple[Callable[[dict], None], list[str]]] = {
    "unknown parameter": (_set_parameters({"colour": "red"}),
                          ["unknown parameter 'colour'", "parameter colour)"]),
    "ill-typed parameter": (_set_parameters({"min_n": "ten"}),
                            ["'min_n' wrong type", "'ten'", "parameter min_n)"]),
    "parameter not allowed": (_set_parameters({"lang": "fr"}),
                              ["'lang' not one of the allowed values", "parameter lang)"]),
    "parameter below minimum": (_set_parameters({"min_n": 0}),
                                ["'min_n' below the minimum 1", "parameter min_n)"]),
    "missing parameter": (lambda p: p["reports"][0].update(grid={}),
                          ["missing parameter 'leerteam'", "parameter leerteam)"]),
    "unknown template": (lambda p: p["reports"][0].update(template="nope"),
                         ["unknown template 'nope'"]),
    "unknown plan key": (lambda p: p.update(colour="red"), ["unknown key(s) ['colour']"]),
    "missing template notebook": (
        lambda p: p["templates"]["leerteam"].update(path="nb/missing.ipynb"),
        ["template 'leerteam' not found", "missing.ipynb"]),
    "unknown parameter type": (
        lambda p: p["templates"]["leerteam"]["params"]["min_n"].update(type="integer"),
        ["type 'integer'", "parameter min_n"]),
    "unknown engine option": (lambda p: p.update(engine={"speed": 3}), ["'engine'", "speed"]),
    "grid column not in dataset": (
        lambda p: p["reports"][0]["grid"]["leerteam"]["distinct"].update(column="Team"),
        ["no column(s) ['Team']", "teams.parquet"]),
    "templates not a mapping": (lambda p: p.update(templates=["leerteam"]), []),
    "output outside the published folder": (
        lambda p: p["reports"][0].update(output="../{leerteam}.html"), ["relative path"]),
}
for _name, (_edit, _expected) in PLAN_CASES.items():
    for _sub in ("plan", "build"):
        def _case(ws: Workspace, edit: Callable[[dict], None] = _edit, sub: str = _sub,
                  expected: list[str] = _expected) -> tuple[list[str], list[str]]:
            plan = ws.plan("bad_plan", edit)
            return ["reports", sub, str(plan)], [*expected, str(plan)]
        CASES[f"reports {_sub} {_name}"] = _case

CASES.update({
    "reports plan missing file": lambda ws: (
        ["reports", "plan", "missing.yaml"], ["file not found: missing.yaml"]),
    "reports build missing file": lambda ws: (
        ["reports", "build", "missing.yaml"], ["file not found: missing.yaml"]),
    "reports plan invalid yaml": lambda ws: (
        ["reports", "plan", str(ws.write_text("bad.yaml", "templates: [a,\n"))],
        ["not valid YAML", "bad.yaml", "row 2"]),
    "reports build plan is a list": lambda ws: (
        ["reports", "build", str(ws.write_text("bad.yaml", "- a\n- b\n"))],
        ["must be a YAML mapping", "bad.yaml"]),
    "reports build workers zero": lambda ws: (
        ["reports", "build", str(ws.plan()), "--workers", "0"], ["--workers", ">= 1", "0"]),
    "reports build workers wrong type": lambda ws: (
        ["reports", "build", str(ws.plan()), "--workers", "many"],
        ["--workers", "whole number", "'many'"]),
    "reports unknown subcommand": lambda ws: (
        ["reports", "frobnicate"], ["invalid choice: 'frobnicate'"]),
    "unknown subcommand": lambda ws: (["frobnicate"], ["invalid choice: 'frobnicate'"]),
})


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_is_one_line_and_writes_nothing(
    case: str, ws: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    argv, expected = CASES[case](ws)
    before = _snapshot(ws.root)
    code, out, err = run_cli(argv, capsys)
    assert code == 2, (code, out, err)
    assert out == ""
    assert "Traceback" not in err
    assert err.endswith("\n") and len(err.splitlines()) == 1, err
    line = err.rstrip("\n")
    prefix = f"ipo-research {argv[0]}" if argv[0] in COMMANDS else "ipo-research:"
    assert line.startswith(prefix), line
    assert ": error: " in line
    assert "Fix:" in line
    for text in expected:
        assert text in line, (text, line)
    assert _snapshot(ws.root) == before


# ----------------------------------------------------------------------------- unexpected errors
def _slip_past_validation(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make loading a plan fail as ill-typed YAML once did (``datasets: [teams]`` raised this
    AttributeError before plans were shape-checked); no real input is known to slip past
    validation now, so the fallback is exercised with this injected fault."""
    def unvalidated(*args: object, **kwargs: object) -> None:
        raise AttributeError("'list' object has no attribute 'items'")
    monkeypatch.setattr("ipo_research.reports.plan.read_template_defaults", unvalidated)


def test_unexpected_error_is_one_line_naming_the_input(
    ws: Workspace, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ill-typed YAML that slips past validation still gives one line naming the file."""
    _slip_past_validation(monkeypatch)
    plan = ws.plan("odd")
    code, out, err = run_cli(["reports", "plan", str(plan)], capsys)
    assert (code, out) == (2, "")
    assert len(err.splitlines()) == 1
    assert "unexpected AttributeError" in err
    assert f"while processing {plan}" in err
    assert f"{DEBUG_ENV}=1" in err


def test_debug_variable_shows_the_traceback(
    ws: Workspace, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(DEBUG_ENV, "1")
    _slip_past_validation(monkeypatch)
    plan = ws.plan("odd")
    with pytest.raises(AttributeError, match="'list' object has no attribute 'items'"):
        main(["reports", "plan", str(plan)])


def test_toolkit_error_without_hint_gets_a_fix(
    ws: Workspace, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An error raised without a hint still ends in ``Fix:`` (the CLI adds a generic one).

    Every error the CLI can reach now carries a hint, so one without is injected."""
    from ipo_research.errors import CleaningError

    def no_hint(*args: object, **kwargs: object) -> None:
        raise CleaningError("'defaults' must be a mapping", file="p.yaml")
    monkeypatch.setattr("ipo_research.cleaning.project.load_project", no_hint)
    project = ws.write_yaml("p.yaml", {"name": "p", "root": ".", "defaults": [1],
                                       "exports": {"a": {"path": "raw/ripls.csv"}}})
    code, _, err = run_cli(["clean", str(project), "--key-file", str(ws.key)], capsys)
    assert code == 2
    assert "'defaults' must be a mapping" in err
    assert err.rstrip().endswith("Fix: correct what is named above "
                                 "(see 'ipo-research clean --help')")
