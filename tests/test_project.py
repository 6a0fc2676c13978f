"""Project files: all-or-nothing cleaning of several exports, written atomically."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from ipo_research.cleaning.project import load_project, run_project
from ipo_research.cleaning.pseudonym import write_key_file
from ipo_research.cli import main
from ipo_research.errors import CleaningError, PrivacyError, WriteError

ROOT = Path(__file__).resolve().parents[1]
KEY = b"project-test-key-0123456789abcdef"
PROJECT = """\
name: toy
root: ..
defaults:
  respondent: Studentnummer
  wave: Meting
exports:
  first:
    path: data/raw/toy/first.csv
    instrument: RIPLS
    items: "Vraag {n}"
  second:
    path: data/raw/toy/second.csv
    instrument: RIPLS
    items: "Vraag {n}"
    rules: {speeders: flag}
"""


def _export(path: Path, n: int, rng_seed: int) -> None:
    import numpy as np

    rng = np.random.default_rng(rng_seed)
    rows = []
    for i in range(n):
        answers = {f"Vraag {k}": str(v) for k, v in enumerate(rng.integers(1, 6, 19), 1)}
        rows.append({"Studentnummer": f"{1000000 + i // 2}", "Naam": f"Naam {i}",
                     "Meting": "voormeting" if i % 2 == 0 else "nameting",
                     "Regio": "Zwolle", "Duur (sec)": f"{300 + i},5", **answers})
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(path, sep=";", index=False, encoding="utf-8-sig")


@pytest.fixture
def root(tmp_path: Path) -> Path:
    _export(tmp_path / "data/raw/toy/first.csv", 20, 1)
    _export(tmp_path / "data/raw/toy/second.csv", 12, 2)
    (tmp_path / "projects").mkdir()
    (tmp_path / "projects/toy.yaml").write_text(PROJECT)
    return tmp_path


def test_run_project_writes_data_and_audit(root: Path) -> None:
    summary = run_project(root / "projects/toy.yaml", key=KEY)
    out = root / "data/processed/toy"
    assert "first: 20 rows kept, 0 dropped (RIPLS)" in summary
    assert sorted(p.name for p in out.iterdir()) == [
        "audit.csv", "first.audit.csv", "first.audit.json", "first.parquet",
        "second.audit.csv", "second.audit.json", "second.parquet",
    ]
    data = pd.read_parquet(out / "second.parquet")
    assert len(data) == 12 and "flag_speeder" in data and "Naam" not in data
    assert data.attrs["export"] == "second"
    audit = pd.read_csv(out / "audit.csv")
    assert set(audit["export"]) == {"first", "second"}
    meta = json.loads((out / "first.audit.json").read_text())
    assert meta["provenance"]["rows_raw"] == 20 and meta["provenance"]["source"] == (
        "data/raw/toy/first.csv")
    assert sum(r["rows_dropped"] for r in meta["audit"]) + 20 == 20
    assert KEY.decode() not in (out / "first.audit.json").read_text()


def test_key_file_and_cli(root: Path, tmp_path_factory: pytest.TempPathFactory,
                          capsys: pytest.CaptureFixture[str],
                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IPO_RESEARCH_KEY", raising=False)
    monkeypatch.delenv("IPO_RESEARCH_KEY_FILE", raising=False)
    key_file = write_key_file(tmp_path_factory.mktemp("keys") / "toy.key")
    assert main(["clean", str(root / "projects/toy.yaml"), "--key-file", str(key_file)]) == 0
    assert "cleaned 2 exports" in capsys.readouterr().out
    custom = root / "elsewhere"
    assert main(["clean", str(root / "projects/toy.yaml"), "--key-file", str(key_file),
                 "--out", str(custom)]) == 0
    assert (custom / "first.parquet").is_file()
    assert main(["clean", str(root / "projects/toy.yaml")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "no pseudonymisation key" in err


def test_no_key_writes_nothing(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IPO_RESEARCH_KEY", raising=False)
    monkeypatch.delenv("IPO_RESEARCH_KEY_FILE", raising=False)
    with pytest.raises(PrivacyError, match="no pseudonymisation key"):
        run_project(root / "projects/toy.yaml")
    assert not (root / "data/processed").exists()


def test_one_bad_export_writes_nothing(root: Path) -> None:
    run_project(root / "projects/toy.yaml", key=KEY)
    before = (root / "data/processed/toy/first.parquet").read_bytes()
    bad = PROJECT.replace('items: "Vraag {n}"\n    rules', 'items: "Q{n}"\n    rules')
    (root / "projects/toy.yaml").write_text(bad)
    with pytest.raises(CleaningError, match=r"mapped column not in the export .*second.csv, "
                       r"column 'Q1'"):
        run_project(root / "projects/toy.yaml", key=KEY)
    assert (root / "data/processed/toy/first.parquet").read_bytes() == before
    assert [p.name for p in (root / "data/processed").iterdir()] == ["toy"]


def test_text_in_duration_names_file_row_column(root: Path) -> None:
    path = root / "data/raw/toy/second.csv"
    text = path.read_text(encoding="utf-8-sig").replace("303,5", "drie minuten")
    path.write_text(text, encoding="utf-8-sig")
    with pytest.raises(CleaningError, match=r"duration is not a number \(file .*second.csv, "
                       r"row 5, column 'Duur \(sec\)'\)"):
        run_project(root / "projects/toy.yaml", key=KEY)
    assert not (root / "data/processed").exists()


def test_never_writes_raw(root: Path) -> None:
    with pytest.raises(WriteError, match="refusing to write inside data/raw"):
        run_project(root / "projects/toy.yaml", key=KEY, out=root / "data/raw/clean")
    assert sorted(p.name for p in (root / "data/raw").iterdir()) == ["toy"]


def test_project_file_errors_name_the_key(root: Path) -> None:
    path = root / "projects/toy.yaml"
    path.write_text(PROJECT.replace("    instrument: RIPLS\n", "    instrumnt: RIPLS\n", 1))
    with pytest.raises(CleaningError, match=r"unknown key 'exports.first.instrumnt'"):
        load_project(path)
    path.write_text(PROJECT.replace("rules: {speeders: flag}", "rules: {speedrs: flag}"))
    with pytest.raises(CleaningError, match="unknown cleaning rule 'speedrs'"):
        load_project(path)
    path.write_text(PROJECT.replace("  wave: Meting\n", ""))
    with pytest.raises(CleaningError, match="export 'first' has neither 'wave' nor 'wave_value'"):
        load_project(path)
    path.write_text("name: toy\nexports: []\n")
    with pytest.raises(CleaningError, match="'exports' must map export names"):
        load_project(path)


def test_demo_project_names_every_demo_export() -> None:
    name, root, output, specs = load_project(ROOT / "projects/demo.yaml")
    assert name == "demo" and root == ROOT and output == ROOT / "data/processed/demo"
    contract = (ROOT / "docs/demo_data_contract.md").read_text()
    for spec in specs:
        assert spec.path.parent == ROOT / "data/raw/demo"
        assert f"`{spec.path.name}`" in contract
    assert len(specs) == 6
