"""Tests of ipo_research.analysis.change against stats / effectsize (tests/r/reliability_change_groups.R)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from ipo_research.analysis import paired_change, response_shift
from ipo_research.analysis.change import PAIRED_COLUMNS, wilcoxon_signed_rank
from ipo_research.errors import AnalysisError

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "fixtures" / "data"
FIXTURE: dict[str, Any] = json.loads(
    (ROOT / "tests" / "fixtures" / "r" / "reliability_change_groups.json").read_text()
)
REF: dict[str, Any] = FIXTURE["change"]
STATS = [
    "n",
    "mean_pre",
    "mean_post",
    "mean_diff",
    "diff_ci_low",
    "diff_ci_high",
    "t",
    "df",
    "d_z",
    "d_av",
    "hedges_g",
    "wilcoxon_v",
    "r_rb",
]


def _load(name: str) -> pd.DataFrame:
    return pd.read_csv(DATA / f"rcg_{name}.csv")


def _check_row(row: pd.Series, expected: dict[str, Any]) -> None:
    for col in STATS:
        assert row[col] == pytest.approx(expected[col], abs=1e-9), col
    for col in ["p", "wilcoxon_p"]:
        assert row[col] == pytest.approx(expected[col], rel=1e-6), col
    # the exact noncentral-t roots (uniroot on R's pt)
    assert row["d_z_ci_low"] == pytest.approx(expected["d_z_ci_low_root"], abs=1e-7)
    assert row["d_z_ci_high"] == pytest.approx(expected["d_z_ci_high_root"], abs=1e-7)
    # effectsize's own CI: within the 1e-3 bar wherever its optimiser converged
    if expected["effectsize_ci_residual"] < 1e-5:
        assert row["d_z_ci_low"] == pytest.approx(expected["d_z_ci_low"], abs=1e-5)
        assert row["d_z_ci_high"] == pytest.approx(expected["d_z_ci_high"], abs=1e-5)


@pytest.mark.parametrize("name", sorted(REF))
def test_paired_change_matches_r(name: str) -> None:
    out = paired_change(_load(name), "pre", "post")
    assert list(out.columns) == list(PAIRED_COLUMNS)
    assert len(out) == 1
    _check_row(out.iloc[0], REF[name])


def test_fixture_covers_exact_and_approximate_wilcoxon_and_tiny_p() -> None:
    methods = {name: ref["wilcoxon_method"] for name, ref in REF.items()}
    assert "exact" in methods["change_distinct20"]
    assert "exact" in methods["change_distinct49"]
    assert "continuity" in methods["change_distinct50"]  # n = 50: normal even without ties
    assert "continuity" in methods["change_ties"]
    assert REF["change_tiny_p"]["p"] < 1e-100
    assert REF["change_tiny_p"]["wilcoxon_p"] < 1e-60
    data = _load("change_ties")
    assert ((data["post"] - data["pre"]) == 0).any()


def test_effectsize_ci_deviation_is_its_optimiser_not_ours() -> None:
    """effectsize's Nelder-Mead stops early on the large-t data set (documented in the R script)."""
    ref = REF["change_tiny_p"]
    assert ref["effectsize_ci_residual"] > 1e-4
    out = paired_change(_load("change_tiny_p"), "pre", "post").iloc[0]
    assert out["d_z_ci_low"] == pytest.approx(ref["d_z_ci_low_root"], abs=1e-7)
    assert abs(out["d_z_ci_low"] - ref["d_z_ci_low"]) < 2e-3


def test_sign_convention_is_post_minus_pre() -> None:
    data = pd.DataFrame({"pre": [1.0, 2.0, 3.0, 4.0, 5.0], "post": [2.0, 4.0, 3.5, 4.0, 7.5]})
    row = paired_change(data, "pre", "post").iloc[0]
    assert row["mean_diff"] > 0 and row["t"] > 0 and row["d_z"] > 0
    # differences 1, 2, .5, 0, 2.5: zero dropped, ranks of |d| = 2, 3, 1, 4, all positive
    assert row["wilcoxon_v"] == 10
    assert row["r_rb"] == pytest.approx(1.0)


def test_exact_signed_rank_p_for_small_n() -> None:
    # n = 5 distinct positive differences: V = 15, exact two-sided p = 2 / 2^5
    v, p, r = wilcoxon_signed_rank(np.array([0.5, 1.5, 2.5, 3.5, 4.5]))
    assert (v, p, r) == (15.0, 0.0625, 1.0)


def test_response_shift_matches_r_and_is_consistent() -> None:
    res = response_shift(_load("shift"), "then", "pre", "post")
    assert list(res.table.index) == ["response_shift", "true_change", "retrospective_change"]
    for est in res.table.index:
        _check_row(res.table.loc[est], FIXTURE["shift"][est])
    assert res.shift["from"] == "pre" and res.shift["to"] == "then"
    assert res.retrospective_change["mean_diff"] == pytest.approx(
        res.true_change["mean_diff"] - res.shift["mean_diff"]
    )
    assert res.shift["mean_diff"] < 0  # the synthetic data have a negative response shift


def test_fewer_than_three_pairs_is_an_error() -> None:
    data = pd.DataFrame({"pre": [1.0, 2.0, np.nan, 4.0], "post": [2.0, np.nan, 3.0, 5.0]})
    with pytest.raises(
        AnalysisError, match=r"fewer than 3 complete pairs \(2\) of 'pre' and 'post'"
    ):
        paired_change(data, "pre", "post")


def test_constant_difference_is_an_error() -> None:
    data = pd.DataFrame({"pre": [1.0, 2.0, 3.0, 4.0], "post": [2.0, 3.0, 4.0, 5.0]})
    with pytest.raises(AnalysisError, match=r"every difference 'post' - 'pre' is the same \(1\)"):
        paired_change(data, "pre", "post")


def test_unknown_and_repeated_columns_are_errors() -> None:
    data = pd.DataFrame({"pre": [1.0, 2.0, 3.0], "post": [2.0, 3.0, 5.0]})
    with pytest.raises(AnalysisError, match=r"unknown column\(s\) 'na'.*column 'na'"):
        paired_change(data, "pre", "na")
    with pytest.raises(AnalysisError, match="pre and post name the same column 'pre'"):
        paired_change(data, "pre", "pre")
    with pytest.raises(AnalysisError, match=r"unknown column\(s\) 'voor'"):
        response_shift(data, "voor", "pre", "post")
