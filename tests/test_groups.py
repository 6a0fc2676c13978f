"""Tests of ipo_research.analysis.groups against stats / effectsize (tests/r/reliability_change_groups.R)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from ipo_research.analysis import GroupComparison, compare_groups
from ipo_research.errors import AnalysisError

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "fixtures" / "data"
REF: dict[str, Any] = json.loads(
    (ROOT / "tests" / "fixtures" / "r" / "reliability_change_groups.json").read_text()
)["groups"]


def _load(name: str) -> pd.DataFrame:
    return pd.read_csv(DATA / f"rcg_{name}.csv")


@cache
def _result(name: str) -> GroupComparison:
    """One comparison per fixture data set, shared by the tests (Games-Howell quantiles are slow)."""
    return compare_groups(_load(name), "score", "group")


@pytest.mark.parametrize("name", sorted(REF))
def test_summary_matches_r(name: str) -> None:
    res = _result(name)
    assert list(res.summary.columns) == [
        "n",
        "k",
        "welch_f",
        "df1",
        "df2",
        "p_welch",
        "kruskal_h",
        "p_kruskal",
        "omega_sq",
        "epsilon_sq",
    ]
    row = res.summary.iloc[0]
    expected = REF[name]["summary"]
    for col in ["n", "k", "welch_f", "df1", "df2", "kruskal_h", "omega_sq", "epsilon_sq"]:
        assert row[col] == pytest.approx(expected[col], abs=1e-9), col
    for col in ["p_welch", "p_kruskal"]:
        assert row[col] == pytest.approx(expected[col], rel=1e-9), col


@pytest.mark.parametrize("name", sorted(REF))
def test_games_howell_matches_formula_in_r(name: str) -> None:
    res = _result(name)
    expected = pd.DataFrame(REF[name]["pairwise"])
    got = res.pairwise
    assert list(got["group1"]) == list(expected["group1"])
    assert list(got["group2"]) == list(expected["group2"])
    for col in ["mean_diff", "se", "q", "df", "ci_low", "ci_high"]:
        np.testing.assert_allclose(got[col], expected[col], atol=1e-6, rtol=0, err_msg=col)
    for col in ["hedges_g", "hedges_g_ci_low", "hedges_g_ci_high"]:
        np.testing.assert_allclose(got[col], expected[col], atol=1e-5, rtol=0, err_msg=col)
    # R's ptukey(lower.tail = FALSE) is 1 - ptukey: below ~1e-12 both R and scipy return
    # rounding noise (R gives 0 or 1e-14 for q = 12..41), so relative agreement is only
    # meaningful above that floor.
    big = expected["p"] > 1e-10
    np.testing.assert_allclose(got["p"][big], expected["p"][big], rtol=1e-6)
    assert (got["p"][~big] < 1e-10).all()


def test_fixtures_cover_tiny_p_and_truncated_effect_sizes() -> None:
    assert REF["groups_tiny_p"]["summary"]["p_welch"] < 1e-50
    assert REF["groups_tiny_p"]["summary"]["p_kruskal"] < 1e-30
    assert REF["groups_null"]["summary"]["omega_sq"] == 0  # truncated at 0 as effectsize
    sizes = _load("groups_unbalanced")["group"].value_counts()
    assert sizes.max() > 3 * sizes.min()


def test_epsilon_sq_is_the_anova_not_the_rank_epsilon() -> None:
    ref = REF["groups_unbalanced"]["summary"]
    res = _result("groups_unbalanced")
    assert res.summary.loc[0, "epsilon_sq"] == pytest.approx(ref["epsilon_sq"], abs=1e-12)
    assert abs(ref["epsilon_sq"] - ref["rank_epsilon_sq"]) > 1e-3


def test_categorical_order_is_kept() -> None:
    data = _load("groups_two")
    data["group"] = pd.Categorical(data["group"], categories=["mbo", "hbo"])
    res = compare_groups(data, "score", "group")
    assert list(res.groups.index) == ["mbo", "hbo"]
    assert (res.pairwise.loc[0, "group1"], res.pairwise.loc[0, "group2"]) == ("mbo", "hbo")
    plain = _result("groups_two")
    assert res.pairwise.loc[0, "mean_diff"] == pytest.approx(-plain.pairwise.loc[0, "mean_diff"])
    assert res.pairwise.loc[0, "hedges_g"] == pytest.approx(-plain.pairwise.loc[0, "hedges_g"])


def test_missing_rows_are_left_out() -> None:
    data = _load("groups_two")
    data.loc[[0, 5], "score"] = np.nan
    data.loc[9, "group"] = None
    res = compare_groups(data, "score", "group")
    assert res.summary.loc[0, "n"] == len(data) - 3


def test_one_group_is_an_error() -> None:
    data = pd.DataFrame({"score": [1.0, 2.0, 3.0], "group": ["a", "a", "a"]})
    with pytest.raises(AnalysisError, match=r"'group' has 1 group\(s\).*at least 2 are needed"):
        compare_groups(data, "score", "group")


def test_group_of_one_is_an_error() -> None:
    data = pd.DataFrame({"score": [1.0, 2.0, 3.0, 4.0], "group": ["a", "a", "a", "b"]})
    with pytest.raises(AnalysisError, match=r"group 'b' of 'group' has 1 observation"):
        compare_groups(data, "score", "group")


def test_constant_group_is_an_error() -> None:
    data = pd.DataFrame({"score": [1.0, 2.0, 3.0, 4.0, 4.0], "group": ["a", "a", "a", "b", "b"]})
    with pytest.raises(AnalysisError, match=r"group 'b' .* without variance"):
        compare_groups(data, "score", "group")


def test_unknown_column_is_an_error() -> None:
    with pytest.raises(AnalysisError, match=r"unknown column\(s\) 'Niveau'"):
        compare_groups(_load("groups_two"), "score", "Niveau")
