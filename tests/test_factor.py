"""Tests for ipo_research.analysis.factor against lavaan 0.6-14 (tests/r/factor.R)."""

from __future__ import annotations

import json
import warnings
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from ipo_research.analysis import cfa, measurement_invariance
from ipo_research.errors import AnalysisError, ConvergenceWarning, IpoWarning

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "fixtures" / "data"
R_OUT = ROOT / "tests" / "fixtures" / "r"

CFA_CASES = ["ripls", "iccas", "missing", "misfit", "twoitem"]
INVARIANCE_CASES = ["niveau", "cohort"]
MODELS = ["configural", "metric", "scalar"]

# Our column -> lavaan fitMeasures() name.
FIT_NAMES = {
    "n": "ntotal",
    "npar": "npar",
    "chisq": "chisq",
    "df": "df",
    "p": "pvalue",
    "cfi": "cfi",
    "tli": "tli",
    "rmsea": "rmsea",
    "rmsea_ci_low": "rmsea.ci.lower",
    "rmsea_ci_high": "rmsea.ci.upper",
    "rmsea_p": "rmsea.pvalue",
    "srmr": "srmr",
    "aic": "aic",
    "bic": "bic",
    "loglik": "logl",
    "baseline_chisq": "baseline.chisq",
    "baseline_df": "baseline.df",
}
# Well inside the acceptance bar (chisq 0.1%, indices 0.005): lavaan's own optimiser
# tolerance is the limiting factor.  RMSEA CI: lavaan's uniroot uses tol ~1e-4 on ncp.
RTOL = {"chisq": 1e-6, "aic": 1e-8, "bic": 1e-8, "loglik": 1e-8, "baseline_chisq": 1e-10}
ATOL = {
    "cfi": 1e-6,
    "tli": 1e-6,
    "rmsea": 1e-6,
    "srmr": 1e-6,
    "p": 1e-6,
    "rmsea_p": 1e-6,
    "rmsea_ci_low": 1e-4,
    "rmsea_ci_high": 1e-4,
}


@cache
def _fixture(name: str) -> dict[str, Any]:
    with (R_OUT / f"factor_{name}.json").open(encoding="utf-8") as fh:
        out: dict[str, Any] = json.load(fh)
    return out


@cache
def _data(file: str) -> pd.DataFrame:
    return pd.read_csv(DATA / file)


def _check_fit(fit: pd.DataFrame, r_fit: dict[str, float]) -> None:
    assert len(fit) == 1
    row = fit.iloc[0]
    for ours, theirs in FIT_NAMES.items():
        expected = r_fit[theirs]
        if ours in RTOL:
            assert row[ours] == pytest.approx(expected, rel=RTOL[ours]), ours
        elif ours in ATOL:
            assert row[ours] == pytest.approx(expected, abs=ATOL[ours]), ours
        else:
            assert row[ours] == expected, ours


def _check_estimates(estimates: pd.DataFrame, r_json: dict[str, Any]) -> None:
    """Every lavaan parameter row (=~, ~~, ~1) has our counterpart with equal values."""
    r_est = pd.DataFrame(r_json["estimates"])
    r_est = r_est[r_est["op"].isin(["=~", "~~", "~1"])].rename(
        columns={"est": "r_est", "se": "r_se", "z": "r_z", "pvalue": "r_p", "std.all": "r_std"}
    )
    keys = ["lhs", "op", "rhs"]
    if "group" in r_est.columns:
        labels = r_json["group_labels"]
        r_est["group"] = [labels[int(g) - 1] for g in r_est["group"]]
        keys.append("group")
    merged = estimates.merge(r_est, on=keys, how="outer", indicator=True)
    assert (merged["_merge"] == "both").all(), merged.loc[merged["_merge"] != "both", keys]
    np.testing.assert_allclose(merged["estimate"], merged["r_est"], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(merged["std_estimate"], merged["r_std"], rtol=1e-4, atol=1e-5)
    free = merged[merged["free"].astype(bool)]
    np.testing.assert_allclose(free["se"], free["r_se"], rtol=1e-4)
    np.testing.assert_allclose(free["z"], free["r_z"], rtol=1e-3, atol=1e-3)
    np.testing.assert_allclose(free["p"], free["r_p"], rtol=2e-2, atol=1e-8)
    fixed = merged[~merged["free"].astype(bool)]
    assert (fixed["r_se"] == 0).all()
    assert fixed[["se", "z", "p"]].isna().all().all()


# --------------------------------------------------------------------------- CFA vs lavaan
@pytest.fixture(scope="module", params=CFA_CASES)
def cfa_case(request: pytest.FixtureRequest) -> tuple[dict[str, Any], Any]:
    r_json = _fixture(f"cfa_{request.param}")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = cfa(_data(r_json["data"]), r_json["model"])
    return r_json, (result, caught)


def test_cfa_fit_matches_lavaan(cfa_case: tuple[dict[str, Any], Any]) -> None:
    r_json, (result, _) = cfa_case
    assert result.converged is bool(r_json["converged"]) is True
    _check_fit(result.fit, r_json["fit"])


def test_cfa_estimates_match_lavaan(cfa_case: tuple[dict[str, Any], Any]) -> None:
    r_json, (result, _) = cfa_case
    _check_estimates(result.estimates, r_json)


def test_cfa_warns_when_lavaan_warns(cfa_case: tuple[dict[str, Any], Any]) -> None:
    r_json, (_, caught) = cfa_case
    ours = [w for w in caught if issubclass(w.category, IpoWarning)]
    assert bool(ours) == bool(r_json["warnings"])
    if ours:
        assert "not positive definite" in str(ours[0].message)


def test_cfa_loadings_table() -> None:
    r_json = _fixture("cfa_ripls")
    result = cfa(_data(r_json["data"]), r_json["model"])
    loadings = result.loadings
    assert list(loadings.columns) == ["factor", "item", "estimate", "std_estimate", "se", "z", "p"]
    assert len(loadings) == 19
    assert loadings["factor"].tolist() == ["TC"] * 9 + ["NPI"] * 3 + ["PPI"] * 4 + ["RR"] * 3
    markers = loadings.groupby("factor", sort=False).head(1)
    assert (markers["estimate"] == 1.0).all()
    assert markers["se"].isna().all()
    r_est = pd.DataFrame(r_json["estimates"])
    r_load = r_est[r_est["op"] == "=~"]
    np.testing.assert_allclose(loadings["estimate"], r_load["est"], rtol=1e-4)
    np.testing.assert_allclose(loadings["std_estimate"], r_load["std.all"], rtol=1e-4)


def test_cfa_listwise_deletion_equals_dropna() -> None:
    r_json = _fixture("cfa_missing")
    data = _data(r_json["data"])
    assert data.isna().any(axis=None)
    with_na = cfa(data, r_json["model"])
    complete = cfa(data.dropna(), r_json["model"])
    assert with_na.fit.loc[0, "n"] == 370 == r_json["nobs"]
    pd.testing.assert_frame_equal(with_na.fit, complete.fit)


def test_cfa_misfit_is_poor() -> None:
    r_json = _fixture("cfa_misfit")
    fit = cfa(_data(r_json["data"]), r_json["model"]).fit.iloc[0]
    assert fit["cfi"] < 0.9
    assert fit["rmsea"] > 0.1
    assert fit["p"] < 1e-10


def test_cfa_accepts_nullable_integer_columns() -> None:
    r_json = _fixture("cfa_iccas")
    data = _data(r_json["data"]).astype("Int64")
    result = cfa(data, r_json["model"])
    assert result.fit.loc[0, "chisq"] == pytest.approx(r_json["fit"]["chisq"], rel=1e-6)


# --------------------------------------------------------------------------- invariance
@pytest.fixture(scope="module", params=INVARIANCE_CASES)
def invariance_case(request: pytest.FixtureRequest) -> tuple[dict[str, Any], Any]:
    r_json = _fixture(f"invariance_{request.param}")
    result = measurement_invariance(_data(r_json["data"]), r_json["model"], r_json["group"])
    return r_json, result


def test_invariance_fit_matches_lavaan(invariance_case: tuple[dict[str, Any], Any]) -> None:
    r_json, result = invariance_case
    assert result.converged
    assert list(result.fit.index) == MODELS
    assert list(result.groups) == r_json["configural"]["group_labels"]
    for name in MODELS:
        _check_fit(result.fit.loc[[name]].reset_index(drop=True), r_json[name]["fit"])


def test_invariance_estimates_match_lavaan(invariance_case: tuple[dict[str, Any], Any]) -> None:
    r_json, result = invariance_case
    for name in MODELS:
        _check_estimates(result.models[name].estimates, r_json[name])


def test_invariance_lrt_matches_lavaan(invariance_case: tuple[dict[str, Any], Any]) -> None:
    r_json, result = invariance_case
    lrt = pd.DataFrame(r_json["lrt"]).set_index("model")
    fit = result.fit
    assert np.isnan(fit.loc["configural", ["delta_chisq", "delta_df", "delta_p"]]).all()
    for name in ["metric", "scalar"]:
        assert fit.loc[name, "delta_chisq"] == pytest.approx(lrt.loc[name, "Chisq diff"], rel=1e-5)
        assert fit.loc[name, "delta_df"] == lrt.loc[name, "Df diff"]
        assert fit.loc[name, "delta_p"] == pytest.approx(lrt.loc[name, "Pr(>Chisq)"], rel=1e-4)
        assert fit.loc[name, "delta_rmsea"] == pytest.approx(lrt.loc[name, "RMSEA"], abs=1e-6)


def test_invariance_scalar_rejected_for_biased_item() -> None:
    # The data give hbo a shifted intercept on item_6: scalar invariance must fail.
    r_json = _fixture("invariance_niveau")
    result = measurement_invariance(_data(r_json["data"]), r_json["model"], "niveau")
    assert (result.fit.loc[["scalar"], "delta_p"] < 0.001).all()
    scalar = result.models["scalar"].estimates
    means = scalar[(scalar["op"] == "~1") & scalar["lhs"].isin(["F1", "F2", "F3"])]
    assert (means.loc[means["group"] == "mbo", "estimate"] == 0.0).all()
    assert not means.loc[means["group"] == "hbo", "free"].eq(False).any()


def test_invariance_equal_loadings_are_equal() -> None:
    r_json = _fixture("invariance_niveau")
    data = _data(r_json["data"])
    metric = cfa(data, r_json["model"], group="niveau", equal=["loadings"])
    wide = metric.loadings.pivot(index=["factor", "item"], columns="group", values="estimate")
    np.testing.assert_array_equal(wide["mbo"], wide["hbo"])
    configural = cfa(data, r_json["model"], group="niveau")
    wide = configural.loadings.pivot(index=["factor", "item"], columns="group", values="estimate")
    assert not np.allclose(wide["mbo"], wide["hbo"])


# --------------------------------------------------------------------------- errors
@pytest.fixture
def small() -> pd.DataFrame:
    rng = np.random.default_rng(20241122)
    f = rng.normal(size=(200, 2))
    f[:, 1] = 0.5 * f[:, 0] + np.sqrt(0.75) * f[:, 1]  # factor correlation .5
    x = np.hstack(
        [
            f[:, [0]] * 0.8,
            f[:, [0]] * 0.7,
            f[:, [0]] * 0.6,
            f[:, [1]] * 0.7,
            f[:, [1]] * 0.6,
            f[:, [1]] * 0.8,
        ]
    )
    x = x + rng.normal(scale=0.6, size=x.shape)
    data = pd.DataFrame(x, columns=[f"x{i}" for i in range(1, 7)])
    data["niveau"] = np.where(rng.random(200) < 0.5, "mbo", "hbo")
    return data


MODEL = {"A": ["x1", "x2", "x3"], "B": ["x4", "x5", "x6"]}


def test_unknown_item_is_named(small: pd.DataFrame) -> None:
    with pytest.raises(AnalysisError, match=r"unknown item column\(s\) 'x9'.*column 'x9'"):
        cfa(small, {"A": ["x1", "x2", "x9"]})


def test_non_numeric_item_is_named(small: pd.DataFrame) -> None:
    data = small.assign(x2=small["x2"].astype(str))
    with pytest.raises(AnalysisError, match=r"item 'x2' is not numeric"):
        cfa(data, MODEL)


def test_single_item_factor_is_rejected(small: pd.DataFrame) -> None:
    with pytest.raises(
        AnalysisError, match=r"factor 'B' has 1 item\(s\); a factor needs at least 2"
    ):
        cfa(small, {"A": ["x1", "x2", "x3"], "B": ["x4"]})


def test_unidentified_two_item_model_is_rejected(small: pd.DataFrame) -> None:
    with pytest.raises(AnalysisError, match=r"not identified.*df = -1.*two-item factors: 'A'"):
        cfa(small, {"A": ["x1", "x2"]})


def test_two_item_factor_identified_by_covariance(small: pd.DataFrame) -> None:
    result = cfa(small, {"A": ["x1", "x2"], "B": ["x4", "x5", "x6"]})
    assert result.converged
    assert result.fit.loc[0, "df"] == 4


def test_empirically_unidentified_model_does_not_converge(small: pd.DataFrame) -> None:
    # A two-item factor is identified only through its covariance with another
    # factor; with an unrelated factor the loading runs away.
    data = small.assign(
        x4=np.random.default_rng(7).normal(size=len(small)),
        x5=np.random.default_rng(8).normal(size=len(small)),
        x6=np.random.default_rng(9).normal(size=len(small)),
    )
    with pytest.warns(ConvergenceWarning, match=r"did not converge after 100 iterations"):
        result = cfa(data, {"A": ["x1", "x2"], "B": ["x4", "x5", "x6"]}, max_iter=100)
    assert not result.converged
    assert result.fit["chisq"].isna().all()


def test_bad_model_shapes(small: pd.DataFrame) -> None:
    with pytest.raises(AnalysisError, match=r"model must be a non-empty mapping"):
        cfa(small, {})
    with pytest.raises(AnalysisError, match=r"factor 'A' must map to a list of item names"):
        cfa(small, {"A": "x1"})
    with pytest.raises(AnalysisError, match=r"lists item\(s\) 'x1' more than once"):
        cfa(small, {"A": ["x1", "x1", "x2"]})
    with pytest.raises(AnalysisError, match=r"factor name 'x4' is also a column"):
        cfa(small, {"x4": ["x1", "x2", "x3"]})
    with pytest.raises(AnalysisError, match=r"data must be a pandas DataFrame, got dict"):
        cfa(small.to_dict(), MODEL)  # type: ignore[arg-type]


def test_constant_item_is_named(small: pd.DataFrame) -> None:
    with pytest.raises(AnalysisError, match=r"item 'x5' is constant"):
        cfa(small.assign(x5=3.0), MODEL)
    data = small.copy()
    data.loc[data["niveau"] == "hbo", "x5"] = 2.0
    with pytest.raises(AnalysisError, match=r"item 'x5' is constant in group 'hbo'"):
        cfa(data, MODEL, group="niveau")


def test_too_few_rows(small: pd.DataFrame) -> None:
    with pytest.raises(AnalysisError, match=r"5 complete rows for 6 items"):
        cfa(small.head(5), MODEL)


def test_singular_covariance(small: pd.DataFrame) -> None:
    data = small.assign(x3=small["x1"] + small["x2"])
    with pytest.raises(AnalysisError, match=r"covariance matrix of the items is singular"):
        cfa(data, MODEL)


def test_group_errors(small: pd.DataFrame) -> None:
    with pytest.raises(AnalysisError, match=r"unknown group column 'regio'"):
        measurement_invariance(small, MODEL, "regio")
    with pytest.raises(AnalysisError, match=r"has 1 group\(s\); invariance needs at least 2"):
        measurement_invariance(small.assign(niveau="mbo"), MODEL, "niveau")
    with pytest.raises(AnalysisError, match=r"group column 'x1' is also an item"):
        cfa(small, MODEL, group="x1")
    with pytest.raises(AnalysisError, match=r"unknown equality constraint 'residuals'"):
        cfa(small, MODEL, group="niveau", equal=["residuals"])
    with pytest.raises(AnalysisError, match=r"equality constraints need a group column"):
        cfa(small, MODEL, equal=["loadings"])
    with pytest.raises(AnalysisError, match=r"max_iter must be at least 1, got 0"):
        cfa(small, MODEL, max_iter=0)


def test_missing_group_rows_are_dropped(small: pd.DataFrame) -> None:
    data = small.astype({"niveau": object})
    data.loc[:9, "niveau"] = None
    result = cfa(data, MODEL, group="niveau")
    assert result.fit.loc[0, "n"] == 190
    assert set(result.groups) == {"mbo", "hbo"}


def test_non_convergence_warns_and_flags(small: pd.DataFrame) -> None:
    with pytest.warns(ConvergenceWarning, match=r"did not converge after 1 iterations"):
        result = cfa(small, MODEL, max_iter=1)
    assert result.converged is False
    assert result.fit[["chisq", "cfi", "tli", "rmsea", "srmr"]].isna().all().all()
    assert result.fit.loc[0, "df"] == 8


def test_converged_model_emits_no_warning(small: pd.DataFrame) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = cfa(small, MODEL)
    assert result.converged is True
