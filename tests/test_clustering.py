"""Tests of ipo_research.analysis.clustering against lme4 and the ICC1 formula (tests/r/...R)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from ipo_research.analysis import design_effect, icc
from ipo_research.errors import AnalysisError

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "fixtures" / "data"
REF: dict[str, Any] = json.loads(
    (ROOT / "tests" / "fixtures" / "r" / "reliability_change_groups.json").read_text()
)["clusters"]


def _load(name: str) -> pd.DataFrame:
    return pd.read_csv(DATA / f"rcg_{name}.csv")


@pytest.mark.parametrize("name", sorted(REF))
def test_reml_matches_lme4(name: str) -> None:
    row = icc(_load(name), "score", "team").iloc[0]
    ref = REF[name]
    assert row["n"] == ref["n"]
    assert row["n_clusters"] == ref["n_clusters"]
    assert row["mean_cluster_size"] == pytest.approx(ref["mean_cluster_size"])
    # issue bar for variance components: 1e-3 relative of lme4
    assert row["var_within"] == pytest.approx(ref["reml"]["var_within"], rel=1e-6)
    assert row["var_between"] == pytest.approx(ref["reml"]["var_between"], rel=1e-5, abs=1e-9)
    assert row["icc"] == pytest.approx(ref["reml"]["icc"], rel=1e-5, abs=1e-9)
    assert row["method"] == "reml"


@pytest.mark.parametrize("name", sorted(REF))
def test_anova_matches_icc1_formula(name: str) -> None:
    row = icc(_load(name), "score", "team", method="anova").iloc[0]
    assert row["icc"] == pytest.approx(REF[name]["anova"]["icc"], abs=1e-12)
    assert row["var_within"] == pytest.approx(REF[name]["anova"]["msw"], rel=1e-12)


def test_boundary_fit_gives_zero_like_lme4_singular() -> None:
    assert REF["clusters_none"]["reml"]["singular"]
    row = icc(_load("clusters_none"), "score", "team").iloc[0]
    assert row["icc"] == 0.0
    assert row["design_effect"] == 1.0


def test_design_effect_column_uses_cluster_size_variation() -> None:
    data = _load("clusters_unbalanced")
    row = icc(data, "score", "team").iloc[0]
    sizes = data.dropna().groupby("team").size().to_numpy()
    expected = 1 + (np.sum(sizes**2) / np.sum(sizes) - 1) * row["icc"]
    assert row["design_effect"] == pytest.approx(expected)
    assert row["cv_cluster_size"] > 0


def test_design_effect_formulas() -> None:
    assert design_effect(0.1, 11) == pytest.approx(2.0)
    assert design_effect(0.0, 30) == 1.0
    assert design_effect(0.1, 10, cv=0.5) == pytest.approx(1 + (1.25 * 10 - 1) * 0.1)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"icc": 0.1, "mean_cluster_size": 0.5}, "mean_cluster_size must be at least 1, got 0.5"),
        ({"icc": 1.5, "mean_cluster_size": 5}, r"icc must lie in \[-1, 1\], got 1.5"),
        ({"icc": 0.1, "mean_cluster_size": 5, "cv": -1.0}, "cv must be a non-negative number"),
    ],
)
def test_design_effect_rejects_bad_input(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(AnalysisError, match=message):
        design_effect(**kwargs)


def test_one_cluster_is_an_error() -> None:
    data = pd.DataFrame({"score": [1.0, 2.0, 3.0], "team": ["a", "a", "a"]})
    with pytest.raises(AnalysisError, match=r"'team' has 1 cluster\(s\).*at least 2 are needed"):
        icc(data, "score", "team")


def test_no_within_variation_is_an_error() -> None:
    data = pd.DataFrame({"score": [1.0, 1.0, 3.0, 3.0], "team": ["a", "a", "b", "b"]})
    with pytest.raises(AnalysisError, match="'score' does not vary within the clusters of 'team'"):
        icc(data, "score", "team")


def test_unknown_column_and_method_are_errors() -> None:
    data = _load("clusters_balanced")
    with pytest.raises(AnalysisError, match=r"unknown column\(s\) 'Leerteam'"):
        icc(data, "score", "Leerteam")
    with pytest.raises(AnalysisError, match="method must be 'reml' or 'anova', got 'ml'"):
        icc(data, "score", "team", method="ml")  # type: ignore[arg-type]
