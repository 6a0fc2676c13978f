"""The report notebooks in notebooks/: they run, and their numbers are the package's.

(a) Every notebook runs top to bottom with its default parameters (only the data path
    points at a temporary copy of the demo data), as ``pytest --nbval-lax notebooks/`` would.
(b) A parameter matrix builds each report template for several parameter sets through the
    report engine and compares the values the notebooks record (``present.report.record``)
    with the analysis functions run here on the same processed data, computed without the
    report helpers.

The demo data are generated (synth + clean) into a temporary folder once per session, so
the tests never depend on ``data/`` existing.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import textwrap
from pathlib import Path
from typing import Any

import nbformat
import numpy as np
import pandas as pd
import pytest

from ipo_research.analysis import mixed_model, paired_change, reliability, response_shift
from ipo_research.instruments import load_instrument
from ipo_research.io import read_processed
from ipo_research.present.report import RECORD_MIME, read_records

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
pytestmark = [pytest.mark.notebooks, pytest.mark.slow]


# --------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Synthetic demo exports and their cleaned Parquet files in a temporary folder."""
    from ipo_research.cleaning import run_project
    from ipo_research.synth import write_demo

    base = tmp_path_factory.mktemp("demo")
    raw = base / "data" / "raw" / "demo"
    write_demo(raw, seed=2024)
    project = (ROOT / "projects" / "demo.yaml").read_text(encoding="utf-8")
    project = re.sub(r"(?m)^root:.*$", "root: ..", project)
    (base / "projects").mkdir()
    (base / "projects" / "demo.yaml").write_text(project, encoding="utf-8")
    processed = base / "data" / "processed" / "demo"
    run_project(base / "projects" / "demo.yaml", key=secrets.token_hex(32), out=processed)
    return {"base": base, "raw": raw, "processed": processed}


def _execute(notebook: Path, parameters: dict[str, Any], out: Path) -> nbformat.NotebookNode:
    import papermill as pm

    pm.execute_notebook(str(notebook), str(out), parameters=parameters, cwd=str(NOTEBOOKS),
                        progress_bar=False, kernel_name="python3")
    return nbformat.read(out, as_version=4)


# --------------------------------------------------------------------------- (a) defaults
CHECK_MARKER = "NBVAL_CHECK_OUTPUT"
SANITIZE_CFG = NOTEBOOKS / "nbval_sanitize.cfg"
HEX64 = re.compile(r"(?i)(?<![0-9a-f])[0-9a-f]{64}(?![0-9a-f])")
PATH = re.compile(r"(?<![\w.])(?:/(?:[\w.-]+/)+[\w.-]*|~/|\.\.?/|[A-Za-z]:\\|file:)")
#: how the sanitiser rewrites a Satterthwaite df ("t(259,2)" -> "t(259,x)"): its only
#: intended effect on the committed outputs, which are otherwise rounded and stable
SATTERTHWAITE = (re.compile(r"\bt\((\d+)[.,]\d+\)"), r"t(\1,x)")


def _checked(cell: Any) -> bool:
    """nbval's rule: a comment line that is exactly ``# NBVAL_CHECK_OUTPUT``."""
    return cell.cell_type == "code" and any(
        line.strip().startswith("#") and line.strip().lstrip("#").strip() == CHECK_MARKER
        for line in cell.source.splitlines())


def _checked_outputs() -> list[tuple[str, int, str]]:
    """(notebook, cell index, text) of every committed output of a checked cell."""
    found = []
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        for index, cell in enumerate(nb.cells):
            if not _checked(cell):
                continue
            for output in cell.outputs:
                if output.output_type == "stream":
                    found.append((path.name, index, output.text))
                else:
                    found.append((path.name, index, output.get("data", {}).get("text/plain", "")))
    return found


def _local_keys() -> list[str]:
    keys = [os.environ.get("IPO_RESEARCH_KEY", "")]
    for file in (Path.home() / ".config" / "ipo_research" / "demo.key",
                 Path(os.environ.get("IPO_RESEARCH_KEY_FILE", "/nonexistent"))):
        if file.is_file():
            keys.append(file.read_text(encoding="utf-8").strip())
    return [k for k in keys if len(k) >= 16]


def test_committed_notebooks_have_outputs_only_in_checked_cells() -> None:
    """Notebooks are committed clean, except the cells nbval compares.

    Only cells marked ``# NBVAL_CHECK_OUTPUT`` carry outputs (plain text: stdout or a
    ``text/plain`` result), and those keep an execution count because nbval refuses to
    compare a cell that was never run; every other cell has no outputs and no count.
    """
    paths = sorted(NOTEBOOKS.glob("*.ipynb"))
    assert [p.name for p in paths] == ["00_walkthrough.ipynb", "01_instrument.ipynb",
                                       "02_change.ipynb", "03_leerteam.ipynb"]
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
        code = [c for c in nb.cells if c.cell_type == "code"]
        for cell in code:
            if _checked(cell):
                assert cell.outputs and cell.execution_count is not None, (path.name, cell.id)
                for output in cell.outputs:
                    if output.output_type == "stream":
                        assert output.name == "stdout", (path.name, cell.id)
                    else:
                        assert output.output_type == "execute_result", (path.name, cell.id)
                        assert set(output.data) == {"text/plain"}, (path.name, cell.id)
            else:
                assert not cell.outputs and cell.execution_count is None, (path.name, cell.id)
        assert any(_checked(c) for c in code), f"{path.name}: no cell is compared by nbval"
        tagged = [c for c in code if "parameters" in c.metadata.get("tags", [])]
        assert len(tagged) == 1, path.name
        assert not _checked(tagged[0]), path.name
        # thin notebooks: no function or class definitions
        assert not any(re.search(r"(?m)^\s*(def|class|lambda)\b", c.source) for c in code), path.name
    # the checked cells of the report templates never reach a published page
    for name in ("01_instrument", "02_change", "03_leerteam"):
        nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
        for cell in filter(_checked, nb.cells):
            assert "remove-cell" in cell.metadata.get("tags", []), (name, cell.id)


def test_checked_outputs_hold_no_identifier_path_or_key(demo: dict[str, Path]) -> None:
    """Committed outputs hold no pseudonym or key (64 hex), no path, no local key and
    none of the direct identifiers of the (deterministic) demo export."""
    outputs = _checked_outputs()
    assert outputs
    raw = pd.read_csv(demo["raw"] / "ripls_zwolle.csv", sep=";", encoding="utf-8-sig", dtype=str)
    identifiers = {v for column in ("Studentnummer", "Naam", "E-mail", "Telefoon")
                   for v in raw[column].dropna() if len(v) >= 4}
    keys = _local_keys()
    for name, index, text in outputs:
        where = f"{name} cell {index}"
        assert not HEX64.search(text), where
        assert not PATH.search(text), (where, PATH.search(text))
        assert not any(k in text for k in keys), where
        assert not [v for v in identifiers if v in text], where


def test_sanitizer_masks_volatile_output_only() -> None:
    """The nbval sanitiser masks what varies between machines and runs, but leaves the
    committed results alone (apart from the Satterthwaite df), and ``make test`` uses it."""
    from nbval.plugin import get_sanitize_patterns

    patterns = get_sanitize_patterns(SANITIZE_CFG.read_text(encoding="utf-8"))
    assert len(patterns) >= 8

    def sanitize(text: str) -> str:  # as nbval's IPyNbCell.sanitize
        for regex, replace in patterns:
            text = re.sub(regex, replace, text)
        return text

    volatile = {
        "pseudoniem " + "3f" * 32: "pseudoniem <HEX64>",
        "klaar om 2026-03-01T12:03:04.123+01:00": "klaar om <TIMESTAMP>",
        "duurde 0,53 s, 12 ms en 1.2 seconds": "duurde <DURATION>, <DURATION> en <DURATION>",
        "gelezen: /home/lector/ipo/data/raw/x.csv": "gelezen: <PATH>",
        "sleutel ~/.config/ipo_research/demo.key": "sleutel <PATH>",
        r"bestand C:\Users\lector\x.csv": "bestand <PATH>",
        "<Figure object at 0x7f3a2c1d5e50>": "<Figure object at 0x<ADDRESS>>",
        "pandas 3.1.0 en ipo_research==0.1.0": "pandas <VERSION> en ipo_research==<VERSION>",
        "d_z = 0.7650541272853918": "d_z = 0.7650",
    }
    for text, expected in volatile.items():
        assert sanitize(text) == expected
    stable = ("mbo/hbo, Leerteam/respondent, cohort 2023-2024, V = 269.775,5, "
              "t(811) = 21,80, d_z = 0,77 [0,69; 0,84], Duur (sec)")
    assert sanitize(stable) == stable
    for name, index, text in _checked_outputs():
        assert sanitize(text) == SATTERTHWAITE[0].sub(SATTERTHWAITE[1], text), (name, index)
    make_line = next(line for line in (ROOT / "Makefile").read_text(encoding="utf-8").splitlines()
                     if "--nbval-lax" in line)
    assert "--nbval-sanitize-with notebooks/nbval_sanitize.cfg notebooks" in make_line


@pytest.mark.parametrize("name", ["00_walkthrough", "01_instrument", "02_change", "03_leerteam"])
def test_notebook_runs_with_defaults(name: str, demo: dict[str, Path], tmp_path: Path) -> None:
    """Each notebook runs with its defaults; only the data location is redirected."""
    data = ({"raw_file": str(demo["raw"] / "ripls_zwolle.csv")} if name == "00_walkthrough"
            else {"data_dir": str(demo["processed"])})
    nb = _execute(NOTEBOOKS / f"{name}.ipynb", data, tmp_path / f"{name}.ipynb")
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    records = read_records(nb)
    assert records, "the notebook records its key values"
    html = "\n".join(o.get("data", {}).get("text/html", "") for o in outputs)
    html += "\n".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    # no pseudonyms (64 hex digits) and no direct identifiers reach the output
    assert not re.search(r"\b[0-9a-f]{64}\b", html)
    raw = pd.read_csv(demo["raw"] / "ripls_zwolle.csv", sep=";", encoding="utf-8-sig",
                      dtype=str)
    for value in list(raw["Studentnummer"].dropna()[:50]) + list(raw["E-mail"].dropna()[:50]):
        assert value not in html
    if name == "00_walkthrough":
        assert records["rows_kept"] > 0 and 0.8 < records["alpha"] < 0.95
    # Dutch by default
    assert "Tabel" in html or name == "00_walkthrough"


# --------------------------------------------------------------------------- (b) matrix
MATRIX: dict[str, list[dict[str, Any]]] = {
    "instrument": [
        {"instrument": "RIPLS", "region": "Zwolle", "cohort": "2023-2024"},
        {"instrument": "ICCAS", "region": "Deventer", "cohort": "alle", "lang": "en"},
    ],
    "change": [
        {"instrument": "RIPLS", "region": "Deventer"},
        {"instrument": "ICCAS", "region": "Zwolle", "lang": "en"},
        {"instrument": "RIPLS", "level": "hbo", "cohort": "2022-2023"},
    ],
    "leerteam": [
        {"leerteam": "ZW-2324-01"},
        {"leerteam": "ZW-2324-09", "min_n": 3},
        {"leerteam": "DV-2223-02", "instrument": "ICCAS", "min_n": 4, "lang": "en"},
    ],
}


@pytest.fixture(scope="session")
def built(demo: dict[str, Path]) -> dict[str, tuple[dict[str, Any], dict[str, Any], str]]:
    """Build the parameter matrix with the report engine; id -> (params, records, page)."""
    from ipo_research.reports import build_plan, load_plan

    base = demo["base"]
    cases = []
    for template, sets in MATRIX.items():
        for i, params in enumerate(sets):
            cases.append((template, i, {"data_dir": str(demo["processed"]), **params}))
    plan_text = textwrap.dedent(f"""
        root: {ROOT}
        output_dir: {base / "reports"}
        executed_dir: {base / "executed"}
        log_dir: {base / "logs"}
        cache: {base / "cache.json"}
        templates:
          instrument:
            path: notebooks/01_instrument.ipynb
            params: {{data_dir: str, instrument: str, region: {{type: str, default: alle}},
                      cohort: {{type: str, default: alle}}, lang: {{type: str, default: nl}},
                      min_n: {{type: int, default: 10}}}}
          change:
            path: notebooks/02_change.ipynb
            params: {{data_dir: str, instrument: str, region: {{type: str, default: alle}},
                      cohort: {{type: str, default: alle}}, level: {{type: str, default: alle}},
                      lang: {{type: str, default: nl}}, min_n: {{type: int, default: 10}}}}
          leerteam:
            path: notebooks/03_leerteam.ipynb
            params: {{data_dir: str, leerteam: str,
                      instrument: {{type: str, default: RIPLS}},
                      lang: {{type: str, default: nl}}, min_n: {{type: int, default: 10}}}}
        reports:
    """)
    for template, i, params in cases:
        plan_text += (f"  - template: {template}\n    cases: [{json.dumps(params)}]\n"
                      f"    output: \"{template}/case-{i}.html\"\n")
    plan_file = base / "matrix.yaml"
    plan_file.write_text(plan_text, encoding="utf-8")
    summary = build_plan(load_plan(plan_file), force=True, workers=2, progress=False)
    assert summary.exit_code == 0, "\n".join(summary.lines())
    result = {}
    for template, i, params in cases:
        nb = nbformat.read(base / "executed" / template / f"case-{i}.ipynb", as_version=4)
        page = (base / "reports" / template / f"case-{i}.html").read_text(encoding="utf-8")
        result[f"{template}-{i}"] = (params, read_records(nb), page)
    return result


def _subset(data: pd.DataFrame, **criteria: str) -> pd.DataFrame:
    keep = np.ones(len(data), dtype=bool)
    for column, value in criteria.items():
        if value != "alle":
            keep &= (data[column].astype("object") == value).to_numpy()
    return data[keep]


def _wide(data: pd.DataFrame, score: str, then: str | None = None) -> pd.DataFrame:
    """Pre/post per respondent, computed independently of present.report.pre_post."""
    waves = data["wave"].astype("object")
    pre = data.loc[waves == "pre"].set_index("respondent")[score].rename("pre")
    post_rows = data.loc[waves == "post"].set_index("respondent")
    parts = [pre, post_rows[score].rename("post")]
    if then:
        parts.append(post_rows[then].rename("then"))
    return pd.concat(parts, axis=1)


def _close(recorded: Any, expected: Any) -> None:
    assert recorded is not None
    assert float(recorded) == pytest.approx(float(expected), rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("case", [0, 1])
def test_instrument_report_values(case: int, built: dict[str, Any],
                                  demo: dict[str, Path]) -> None:
    params, rec, page = built[f"instrument-{case}"]
    inst = load_instrument(params["instrument"])
    data = _subset(read_processed(demo["processed"], instrument=inst.name),
                   Regio=params["region"], Cohort=params["cohort"])
    pre = data[data["wave"].astype("object") == "pre"]
    rel = reliability(pre, list(inst.scored_items)).summary.iloc[0]
    for name in ("alpha", "alpha_ci_low", "alpha_ci_high", "omega_total"):
        _close(rec[name], rel[name])
    assert rec["n_pre"] == pre["respondent"].nunique()
    post = data[data["wave"].astype("object") == "post"]
    assert rec["n_post"] == post["respondent"].nunique()
    _close(rec["mean_total_pre"], pre["total"].mean())
    sub = next(iter(inst.subscales))
    _close(rec["alpha_subscales"][sub],
           reliability(pre, list(inst.subscales[sub])).summary.loc[0, "alpha"])
    lang = params.get("lang", "nl")
    assert f'<html lang="{lang}"' in page
    assert ("Table 1" if lang == "en" else "Tabel 1") in page
    assert RECORD_MIME not in page and "<script src" not in page


@pytest.mark.parametrize("case", [0, 1, 2])
def test_change_report_values(case: int, built: dict[str, Any], demo: dict[str, Path]) -> None:
    params, rec, page = built[f"change-{case}"]
    inst = load_instrument(params["instrument"])
    data = _subset(read_processed(demo["processed"], instrument=inst.name),
                   Regio=params.get("region", "alle"), Cohort=params.get("cohort", "alle"),
                   Niveau=params.get("level", "alle"))
    then = "total_before" if inst.retrospective else None
    wide = _wide(data, "total", then)
    expected = paired_change(wide, "pre", "post").iloc[0]
    for name in ("n", "mean_pre", "mean_post", "mean_diff", "t", "p", "d_z", "d_z_ci_low",
                 "d_z_ci_high"):
        _close(rec[name], expected[name])
    if "level" not in params:
        level_data = data.assign(Niveau=data["Niveau"].astype("object"))
        for level in ("mbo", "hbo"):
            part = _wide(level_data[level_data["Niveau"] == level], "total")
            _close(rec["d_z_by_level"][level], paired_change(part, "pre", "post").loc[0, "d_z"])
    teams = data.dropna(subset=["Leerteam", "total"])
    assert rec["formula"].startswith("total ~ wave")
    fit = mixed_model(teams, rec["formula"])
    _close(rec["b_growth"], fit.fixed.loc["wavepost", "estimate"])
    _close(rec["df_growth"], fit.fixed.loc["wavepost", "df"])
    assert rec["nobs"] == fit.nobs
    # every leerteam has fewer than 10 students: none is shown
    assert rec["n_teams_shown"] == 0 and rec["d_z_by_team"] == {}
    if then:
        shift = response_shift(wide.dropna(), "then", "pre", "post")
        _close(rec["shift_mean_diff"], shift.shift["mean_diff"])
        _close(rec["retro_d_z"], shift.retrospective_change["d_z"])
        assert ("Response shift" if params.get("lang") == "en" else "Responsverschuiving") in page
    else:
        assert "shift_mean_diff" not in rec


@pytest.mark.parametrize("case", [0, 1, 2])
def test_leerteam_report_values(case: int, built: dict[str, Any],
                                demo: dict[str, Path]) -> None:
    params, rec, page = built[f"leerteam-{case}"]
    min_n = params.get("min_n", 10)
    data = read_processed(demo["processed"], instrument=params.get("instrument", "RIPLS"))
    team = data[data["Leerteam"] == params["leerteam"]]
    team_wide = _wide(team, "total").dropna()
    shown = len(team_wide) >= min_n
    assert rec["team_shown"] is shown
    if shown:
        _close(rec["team_d_z"], paired_change(team_wide, "pre", "post").loc[0, "d_z"])
        assert rec["team_n"] == len(team_wide)
    else:
        # nothing of the team is recorded or shown: not even its size
        assert rec["team_d_z"] is None and rec["team_n"] is None
        assert ("fewer than" if params.get("lang") == "en" else "minder dan") in page
    region = team["Regio"].iloc[0]
    cohort = team["Cohort"].iloc[0]
    peers = _subset(data, Regio=region, Cohort=cohort).dropna(subset=["Leerteam"])
    expected = paired_change(_wide(peers, "total"), "pre", "post").iloc[0]
    _close(rec["region_teams_d_z"], expected["d_z"])
    assert rec["region_teams_n"] == expected["n"]
    assert rec["levels"] == sorted(team["Niveau"].dropna().astype(str).unique())


def test_small_team_page_shows_no_team_numbers(built: dict[str, Any]) -> None:
    """With min_n = 10 the team's row is blanked ('x') and explained in the note."""
    _params, rec, page = built["leerteam-0"]
    assert not rec["team_shown"]
    row = re.search(r"<th scope=\"row\">Leerteam ZW-2324-01</th>(.*?)</tr>", page, re.S)
    assert row is not None
    cells = re.findall(r"<td>(.*?)</td>", row.group(1))
    assert cells and set(cells) == {"x"}
    assert "Onderdrukt om herleidbaarheid te voorkomen" in page
