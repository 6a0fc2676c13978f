"""read_processed: stacking the cleaned Parquet files of one instrument."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ipo_research.errors import ReadError
from ipo_research.io import read_processed, write_parquet
from ipo_research.io.processed import processed_files


def _frame(instrument: str, n: int, seed: int, team: str) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({
        "respondent": [f"{seed}-{i}" for i in range(n)],
        "wave": ["post", "pre"] * (n // 2),
        "Regio": ["Zwolle"] * n,
        "Niveau": ["hbo", "mbo"] * (n // 2),
        "Leerteam": [team, ""] * (n // 2),
        "total": rng.normal(3.5, 0.5, n),
    })
    df.attrs = {"project": "t", "export": f"x{seed}", "instrument": instrument}
    return df


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    write_parquet(_frame("RIPLS", 6, 1, "ZW-1"), tmp_path / "b_ripls.parquet")
    write_parquet(_frame("RIPLS", 4, 2, "ZW-2"), tmp_path / "a_ripls.parquet")
    write_parquet(_frame("ICCAS", 4, 3, "ZW-3"), tmp_path / "iccas.parquet")
    return tmp_path


def test_reads_and_stacks_one_instrument_in_file_order(folder: Path) -> None:
    data = read_processed(folder, instrument="ripls")
    assert len(data) == 10
    assert data["export"].tolist() == ["a_ripls"] * 4 + ["b_ripls"] * 6
    assert data.attrs == {"instrument": "RIPLS"}
    assert list(data.index) == list(range(10))
    expected = pd.read_parquet(folder / "a_ripls.parquet")["total"].to_numpy()
    np.testing.assert_array_equal(data["total"].to_numpy()[:4], expected)


def test_normalises_waves_levels_and_empty_context(folder: Path) -> None:
    data = read_processed(folder, instrument="RIPLS")
    assert list(data["wave"].cat.categories) == ["pre", "post"]
    assert list(data["Niveau"].cat.categories) == ["mbo", "hbo"]
    assert data["Leerteam"].isna().sum() == 5
    assert set(data["Leerteam"].dropna()) == {"ZW-1", "ZW-2"}


def test_single_file_and_instrument_filter(folder: Path) -> None:
    data = read_processed(folder / "iccas.parquet")
    assert len(data) == 4 and data.attrs["instrument"] == "ICCAS"
    assert [p.name for p in processed_files(folder, instrument="ICCAS")] == ["iccas.parquet"]


def test_errors_name_the_problem_and_the_fix(folder: Path, tmp_path: Path) -> None:
    with pytest.raises(ReadError, match=r"mix instruments \(ICCAS, RIPLS\).*pass instrument="):
        read_processed(folder)
    with pytest.raises(ReadError, match=r"no processed data of instrument 'IPAS'.*ICCAS, RIPLS"):
        read_processed(folder, instrument="IPAS")
    with pytest.raises(ReadError, match=r"processed data not found.*ipo-research clean"):
        read_processed(tmp_path / "missing")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ReadError, match="holds no processed Parquet files"):
        read_processed(empty)
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "x.parquet").write_bytes(b"not parquet")
    with pytest.raises(ReadError, match="cannot read the Parquet file"):
        read_processed(broken)
