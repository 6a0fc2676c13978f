"""Tests of ipo_research.analysis.reliability against psych (tests/r/reliability_change_groups.R)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from ipo_research.analysis import ReliabilityResult, reliability
from ipo_research.analysis.reliability import minres_one_factor
from ipo_research.errors import AnalysisError

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "fixtures" / "data"
REF: dict[str, Any] = json.loads(
    (ROOT / "tests" / "fixtures" / "r" / "reliability_change_groups.json").read_text()
)["reliability"]
TOL = 1e-6  # issue bar is 1e-3; the implementation reproduces psych far closer than that


def _load(name: str) -> pd.DataFrame:
    return pd.read_csv(DATA / f"rcg_{name}.csv")


@cache
def _result(name: str, missing: str) -> ReliabilityResult:
    """One analysis per fixture data set and missing-data rule, shared by the tests."""
    data = _load(name)
    return reliability(data, list(data.columns), missing=missing)  # type: ignore[arg-type]


@pytest.mark.parametrize("missing", ["pairwise", "listwise"])
@pytest.mark.parametrize("name", sorted(REF))
def test_summary_matches_psych(name: str, missing: str) -> None:
    res = _result(name, missing)
    expected = REF[name][missing]["summary"]
    assert list(res.summary.columns) == [
        "n",
        "k",
        "alpha",
        "alpha_ci_low",
        "alpha_ci_high",
        "std_alpha",
        "average_r",
        "omega_total",
    ]
    row = res.summary.iloc[0]
    assert row["n"] == expected["n"]
    assert row["k"] == expected["k"]
    for col in ["alpha", "alpha_ci_low", "alpha_ci_high", "std_alpha", "average_r", "omega_total"]:
        assert row[col] == pytest.approx(expected[col], abs=TOL), col


@pytest.mark.parametrize("missing", ["pairwise", "listwise"])
@pytest.mark.parametrize("name", sorted(REF))
def test_item_statistics_match_psych(name: str, missing: str) -> None:
    res = _result(name, missing)
    expected = REF[name][missing]["items"]
    assert list(res.items.index) == expected["item"]
    assert res.items.index.name == "item"
    assert list(res.items.columns) == [
        "n",
        "mean",
        "sd",
        "item_rest_r",
        "alpha_if_deleted",
        "omega_if_deleted",
    ]
    np.testing.assert_array_equal(res.items["n"].to_numpy(), expected["n"])
    for col in ["mean", "sd", "item_rest_r", "alpha_if_deleted"]:
        np.testing.assert_allclose(
            res.items[col].to_numpy(), expected[col], atol=TOL, rtol=0, err_msg=col
        )
    # psych's minres stops at R's default L-BFGS-B tolerance; ours goes to the optimum: 1e-5
    np.testing.assert_allclose(
        res.items["omega_if_deleted"].to_numpy(), expected["omega_if_deleted"], atol=1e-5, rtol=0
    )


def test_missing_data_set_really_has_missing_and_a_negative_item() -> None:
    data = _load("rel_missing")
    assert data.isna().any(axis=None)
    res = _result("rel_missing", "pairwise")
    assert res.items.loc["v4", "item_rest_r"] < 0  # psych's flip in omega is exercised
    assert res.summary.loc[0, "n"] == len(data)  # psych's Feldt n counts every row passed
    listwise = _result("rel_missing", "listwise")
    assert listwise.summary.loc[0, "n"] < len(data)


def test_minres_reproduces_a_known_one_factor_structure() -> None:
    lam = np.array([0.8, 0.7, 0.6, 0.5, 0.4])
    r = np.outer(lam, lam)
    np.fill_diagonal(r, 1.0)
    np.testing.assert_allclose(minres_one_factor(r), lam, atol=1e-6)
    np.testing.assert_allclose(
        minres_one_factor(r * np.outer([1, 1, -1, 1, 1], [1, 1, -1, 1, 1])),
        lam * [1, 1, -1, 1, 1],
        atol=1e-6,
    )


def test_two_items_give_alpha_but_no_item_deleted_values() -> None:
    rng = np.random.default_rng(5)
    x = rng.normal(size=50)
    data = pd.DataFrame({"a": x + rng.normal(size=50), "b": x + rng.normal(size=50)})
    res = reliability(data, ["a", "b"])
    c = np.cov(data.to_numpy(), rowvar=False)
    assert res.summary.loc[0, "alpha"] == pytest.approx(2 * (1 - np.trace(c) / c.sum()))
    assert np.isnan(res.summary.loc[0, "omega_total"])
    assert res.items["alpha_if_deleted"].isna().all()


def test_nullable_integer_columns_are_accepted() -> None:
    data = _load("rel_complete").astype("Int64")
    res = reliability(data, list(data.columns))
    assert res.summary.loc[0, "alpha"] == pytest.approx(
        REF["rel_complete"]["pairwise"]["summary"]["alpha"], abs=TOL
    )


def test_constant_item_is_an_error() -> None:
    data = _load("rel_complete")
    data["q3"] = 4.0
    with pytest.raises(AnalysisError, match=r"item 'q3' is constant.*column 'q3'"):
        reliability(data, list(data.columns))


def test_unknown_column_is_named() -> None:
    data = _load("rel_complete")
    with pytest.raises(AnalysisError, match=r"unknown column\(s\) 'q99'.*column 'q99'"):
        reliability(data, ["q1", "q2", "q99"])


def test_text_column_is_an_error() -> None:
    data = _load("rel_complete")
    data["q2"] = data["q2"].astype(str)
    with pytest.raises(AnalysisError, match=r"column 'q2' is not numeric"):
        reliability(data, ["q1", "q2", "q3"])


def test_one_item_is_an_error() -> None:
    with pytest.raises(AnalysisError, match="at least 2 items, got 1"):
        reliability(_load("rel_complete"), ["q1"])


def test_duplicate_items_are_an_error() -> None:
    with pytest.raises(AnalysisError, match="items are listed twice: 'q1'"):
        reliability(_load("rel_complete"), ["q1", "q2", "q1"])


def test_items_never_answered_together_are_an_error() -> None:
    data = pd.DataFrame(
        {
            "a": [1, 2, 3, 4, np.nan, np.nan, np.nan, np.nan],
            "b": [np.nan, np.nan, np.nan, np.nan, 1, 2, 3, 5],
            "c": [1, 3, 2, 4, 2, 1, 3, 5],
        }
    )
    with pytest.raises(
        AnalysisError, match=r"items 'a' and 'b' have fewer than 2 answers in common"
    ):
        reliability(data, ["a", "b", "c"])


def test_bad_missing_option_is_an_error() -> None:
    with pytest.raises(
        AnalysisError, match=r"missing must be 'pairwise' or 'listwise', got 'mean'"
    ):
        reliability(_load("rel_complete"), ["q1", "q2"], missing="mean")  # type: ignore[arg-type]
