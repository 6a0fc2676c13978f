"""The synthetic generator's messiness is fully accounted for in the cleaning audit.

The demo exports are generated into ``tmp_path`` with :mod:`ipo_research.synth`, cleaned with
``projects/demo.yaml`` and every count in ``truth/messiness.json`` is found in the audit.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from ipo_research.cleaning import run_project

ROOT = Path(__file__).resolve().parents[1]
FILES = {
    "ripls_zwolle": "ripls_zwolle.csv",
    "ripls_deventer": "ripls_deventer.csv",
    "ripls_deventer_2024": "ripls_deventer_2024.sav",
    "ripls_qualtrics": "ripls_qualtrics.csv",
    "iccas_zwolle": "iccas_zwolle.xlsx",
    "iccas_deventer": "iccas_deventer.xlsx",
}
KEY = b"synthetic-demo-key-0123456789abcdef"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project root with synthetic raw exports, cleaned with projects/demo.yaml."""
    synth = pytest.importorskip("ipo_research.synth")
    root = tmp_path_factory.mktemp("demo")
    synth.write_demo(root / "data" / "raw" / "demo", seed=11, scale=0.25)
    (root / "projects").mkdir()
    shutil.copy(ROOT / "projects" / "demo.yaml", root / "projects" / "demo.yaml")
    run_project(root / "projects" / "demo.yaml", key=KEY)
    return root


def _audit(root: Path, export: str) -> pd.DataFrame:
    audit = pd.read_csv(root / "data" / "processed" / "demo" / f"{export}.audit.csv")
    return audit.assign(key=audit["step"] + ": " + audit["reason"])


def _one(audit: pd.DataFrame, step: str, contains: str, column: str) -> int:
    rows = audit[(audit["step"] == step) & audit["reason"].str.contains(contains, regex=False)]
    assert len(rows) == 1, (step, contains)
    return int(rows.iloc[0][column])


@pytest.mark.parametrize("export", list(FILES))
def test_messiness_is_accounted_for(demo: Path, export: str) -> None:
    truth = json.loads((demo / "data/raw/demo/truth/messiness.json").read_text())[FILES[export]]
    audit = _audit(demo, export)
    data = pd.read_parquet(demo / "data" / "processed" / "demo" / f"{export}.parquet")
    # rows: every injected duplicate, speeder and straight-liner is dropped, nothing else
    assert _one(audit, "duplicates", "duplicate", "rows_dropped") == truth["duplicate_rows"]
    assert _one(audit, "speeders", "speeder", "rows_dropped") == truth["speeder_rows"]
    assert _one(audit, "straight-lining", "straight", "rows_dropped") == truth["straight_liner_rows"]
    assert audit["rows_dropped"].sum() == (
        truth["duplicate_rows"] + truth["speeder_rows"] + truth["straight_liner_rows"]
    )
    assert len(data) + audit["rows_dropped"].sum() == truth["rows"]
    assert len(data) == truth["kept_rows"] - truth["speeder_rows"] - truth["straight_liner_rows"]
    # cells: SPSS user-missing codes arrive as missing values (pyreadstat), so they count there
    missing = truth["missing_cells"] + truth["duplicate_missing_cells"] + truth["user_missing_cells"]
    assert _one(audit, "recode", "missing answer", "cells_changed") == missing
    assert _one(audit, "recode", "outside the scale", "cells_changed") == truth["out_of_range_cells"]
    assert _one(audit, "recode", "neither a number", "cells_changed") == truth["junk_text_cells"]
    assert _one(audit, "recode", "not applicable", "cells_changed") == truth["na_cells"]
    assert _one(audit, "recode", "label recoded", "cells_changed") == truth["label_cells"]
    assert _one(audit, "recode", "decimal comma", "cells_changed") == truth["decimal_comma_cells"]
    # identifiers: every identifier column (and free text) is removed and absent from the data
    removed = audit.loc[audit["step"] == "privacy", "columns"].iloc[0].split(", ")
    expected = set(truth["identifier_columns"])
    if truth["free_text_cells"]:
        expected.add("Opmerkingen")
    assert expected <= set(removed)
    assert not expected & set(data.columns)


def test_no_identifier_or_key_in_any_output(demo: Path) -> None:
    raw = demo / "data" / "raw" / "demo"
    out = demo / "data" / "processed" / "demo"
    students = pd.read_csv(raw / "truth" / "students.csv", dtype=str)
    ids = set(students["Studentnummer"])
    blob = b"".join(p.read_bytes() for p in sorted(out.iterdir()))
    text = "\n".join(
        pd.read_parquet(out / f"{e}.parquet").to_csv() for e in FILES
    ) + blob.decode("utf-8", errors="replace")
    assert KEY not in blob and KEY.hex().encode() not in blob
    leaked = [i for i in ids if i in text]
    assert not leaked, leaked[:3]
    zwolle = pd.read_csv(raw / "ripls_zwolle.csv", sep=";", encoding="utf-8-sig", dtype=str)
    for column in ("Naam", "E-mail", "Telefoon"):
        values = zwolle[column].dropna().unique()[:50]
        assert not [v for v in values if v in text], column


def test_cleaned_data_are_ready_for_analysis(demo: Path) -> None:
    out = demo / "data" / "processed" / "demo"
    iccas = pd.read_parquet(out / "iccas_zwolle.parquet")
    assert {"pre", "post"} == set(iccas["wave"])
    assert iccas["respondent"].str.fullmatch(r"[0-9a-f]{64}").all()
    post = iccas[iccas["wave"] == "post"]
    assert post["total_before"].notna().mean() > 0.95
    assert (post["total"] - post["total_before"]).mean() > 0  # growth in the synthetic truth
    assert {"Regio", "Instelling", "Opleiding", "Niveau", "Cohort", "Leerteam"} <= set(iccas)
    summary = json.loads((out / "iccas_zwolle.audit.json").read_text())
    assert summary["provenance"]["source"] == "data/raw/demo/iccas_zwolle.xlsx"
    assert summary["provenance"]["reader"]["sha256"]
