"""APA 7 number formatting and tables (ipo_research.present.apa)."""

from __future__ import annotations

import doctest
import importlib
import math
from dataclasses import dataclass
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

from ipo_research.errors import PresentationError
from ipo_research.present import apa
from ipo_research.present.apa import (
    MINUS,
    NA,
    SUPPRESSED,
    ApaTable,
    apa_css,
    apa_table,
    fmt_ci,
    fmt_df,
    fmt_int,
    fmt_num,
    fmt_p,
    fmt_stat,
    table_kinds,
)
from ipo_research.present.suppress import suppress_table


# --------------------------------------------------------------------------- result shapes
# Containers with the column contract of issue 4 (the analysis functions' results).
@dataclass(frozen=True)
class ReliabilityResult:
    summary: pd.DataFrame
    items: pd.DataFrame


@dataclass(frozen=True)
class GroupsResult:
    summary: pd.DataFrame
    pairwise: pd.DataFrame


@dataclass(frozen=True)
class MixedResult:
    fixed: pd.DataFrame
    random: pd.DataFrame
    icc: float
    loglik: float
    converged: bool


@dataclass(frozen=True)
class FullMixedResult(MixedResult):
    nobs: int
    ngroups: pd.Series
    singular: bool


@dataclass(frozen=True)
class CfaResult:
    fit: pd.DataFrame
    loadings: pd.DataFrame


@pytest.fixture
def reliability() -> ReliabilityResult:
    summary = pd.DataFrame(
        {
            "n": [212],
            "k": [4],
            "alpha": [0.84567],
            "alpha_ci_low": [0.8102],
            "alpha_ci_high": [0.8755],
            "std_alpha": [0.8491],
            "average_r": [0.5843],
            "omega_total": [0.8612],
        }
    )
    items = pd.DataFrame(
        {
            "n": [212, 211, 212, 8],
            "mean": [3.8113, 3.2607, 4.0047, 2.5],
            "sd": [0.8123, 1.0456, 0.7011, 1.2],
            "item_rest_r": [0.6634, 0.7012, 0.5521, 0.25],
            "alpha_if_deleted": [0.8011, 0.7833, 0.8301, 0.87],
            "omega_if_deleted": [0.8102, 0.7951, 0.8413, 0.88],
        },
        index=pd.Index(["q1", "q2", "q3", "q4"], name="item"),
    )
    return ReliabilityResult(summary, items)


@pytest.fixture
def paired() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "n": [48],
            "mean_pre": [3.2104],
            "mean_post": [3.6588],
            "mean_diff": [0.4484],
            "diff_ci_low": [0.2871],
            "diff_ci_high": [0.6097],
            "t": [5.5912],
            "df": [47.0],
            "p": [1.1e-6],
            "d_z": [0.8071],
            "d_z_ci_low": [0.4813],
            "d_z_ci_high": [1.1259],
            "d_av": [0.6512],
            "hedges_g": [0.6459],
            "wilcoxon_v": [912.5],
            "wilcoxon_p": [0.0412],
            "r_rb": [-0.4216],
        }
    )


# =========================================================================== numbers
@pytest.mark.parametrize(
    ("p", "lang", "expected"),
    [
        (0.0004, "en", "< .001"),
        (0.0004, "nl", "< ,001"),
        (0.00099, "en", "< .001"),
        (0.001, "en", ".001"),
        (0.05, "en", ".050"),
        (0.05, "nl", ",050"),
        (0.04049, "en", ".040"),
        (0.0415, "en", ".042"),
        (0.9994, "en", ".999"),
        (0.9995, "en", "> .999"),
        (1.0, "en", "> .999"),
        (1.0, "nl", "> ,999"),
        (0.0, "en", "< .001"),
    ],
)
def test_fmt_p_rules(p: float, lang: str, expected: str) -> None:
    assert fmt_p(p, lang=lang) == expected


def test_fmt_p_prefix_missing_and_numpy() -> None:
    assert fmt_p(0.0004, prefix=True) == "p < .001"
    assert fmt_p(0.0312, lang="nl", prefix=True) == "p = ,031"
    assert fmt_p(np.float64(0.2), prefix=True) == "p = .200"
    assert fmt_p(float("nan")) == NA
    assert fmt_p(None, na="") == ""
    assert fmt_p(1.0 + 1e-12) == "> .999"  # floating-point excess tolerated


@pytest.mark.parametrize("bad", [-0.01, 1.2, 5.0])
def test_fmt_p_rejects_out_of_range(bad: float) -> None:
    with pytest.raises(PresentationError, match=r"p-value must lie between 0 and 1"):
        fmt_p(bad)


def test_fmt_p_rejects_text_and_infinity() -> None:
    with pytest.raises(PresentationError, match=r"p-value must be a number, got 'abc'"):
        fmt_p("abc")
    with pytest.raises(PresentationError, match=r"p-value is infinite"):
        fmt_p(math.inf)


@pytest.mark.parametrize(
    ("value", "kwargs", "expected"),
    [
        (0.4567, {}, "0.46"),
        (0.4567, {"lang": "nl"}, "0,46"),
        (0.8512, {"stat": "alpha"}, ".85"),
        (0.8512, {"stat": "omega_total"}, ".85"),
        (-0.4216, {"stat": "r_rb"}, f"{MINUS}.42"),
        (-0.4216, {"stat": "r_rb", "lang": "nl"}, f"{MINUS},42"),
        (0.8071, {"stat": "d_z"}, "0.81"),  # d can exceed 1: leading zero
        (1.2345, {"stat": "alpha"}, "1.23"),
        (-2.5, {}, f"{MINUS}2.50"),
        (-0.125, {"lang": "nl"}, f"{MINUS}0,13"),
        (0.125, {}, "0.13"),  # half away from zero on the printed value
        (2.675, {}, "2.68"),
        (-0.001, {}, "0.00"),  # no negative zero
        (-0.004, {"stat": "r"}, ".00"),
        (12345.678, {"thousands": True}, "12,345.68"),
        (12345.678, {"thousands": True, "lang": "nl"}, "12.345,68"),
        (3.14159, {"decimals": 0}, "3"),
        (0.5, {"decimals": 0, "stat": "r"}, "1"),
        (0.45, {"leading_zero": False}, ".45"),
        (0.45, {"stat": "alpha", "leading_zero": True}, "0.45"),
    ],
)
def test_fmt_num_rules(value: float, kwargs: dict[str, object], expected: str) -> None:
    assert fmt_num(value, **kwargs) == expected  # type: ignore[arg-type]


def test_fmt_num_missing_and_errors() -> None:
    assert fmt_num(None) == NA
    assert fmt_num(pd.NA) == NA
    assert fmt_num(np.nan, na="") == ""
    with pytest.raises(PresentationError, match=r"unknown language 'de'"):
        fmt_num(1.0, lang="de")
    with pytest.raises(PresentationError, match=r"decimals must be a whole number >= 0, got -1"):
        fmt_num(1.0, -1)
    with pytest.raises(PresentationError, match=r"value must be a number, got 'x'"):
        fmt_num("x")


def test_fmt_int_and_df() -> None:
    assert fmt_int(1234) == "1,234"
    assert fmt_int(1234, lang="nl") == "1.234"
    assert fmt_int(999) == "999"
    assert fmt_int(np.int64(-12)) == f"{MINUS}12"
    assert fmt_int(float("nan")) == NA
    with pytest.raises(PresentationError, match=r"count must be a whole number, got 3.5"):
        fmt_int(3.5)
    assert fmt_df(48.0) == "48"
    assert fmt_df(1234.0) == "1234"  # no thousands separator in df
    assert fmt_df(47.314) == "47.31"
    assert fmt_df(47.314, lang="nl") == "47,31"
    assert fmt_df(None) == NA
    assert fmt_df(197.9999999) == "198"  # whole at the shown precision
    assert fmt_df(1234.0) == "1234"


def test_fmt_ci() -> None:
    assert fmt_ci(0.123, 0.456) == "[0.12, 0.46]"
    assert fmt_ci(0.123, 0.456, lang="nl") == "[0,12; 0,46]"
    assert fmt_ci(-0.123, 0.456) == f"[{MINUS}0.12, 0.46]"
    assert fmt_ci(0.8102, 0.8755, stat="alpha") == "[.81, .88]"
    assert fmt_ci(0.8102, 0.8755, stat="alpha", lang="nl") == "[,81; ,88]"
    assert fmt_ci(0.1, None) == NA


def test_fmt_stat_dispatch() -> None:
    assert fmt_stat(0.0123, "p") == ".012"
    assert fmt_stat(0.0123, "wilcoxon_p", lang="nl") == ",012"
    assert fmt_stat(250, "n", lang="nl") == "250"
    assert fmt_stat(47.3, "df") == "47.30"
    assert fmt_stat(0.85, "cfi") == ".85"
    assert fmt_stat(0.85, "cfi", decimals=3) == ".850"
    assert fmt_stat(2.345, "t", lang="nl") == "2,35"


def test_doctests_pass() -> None:
    result = doctest.testmod(apa)
    assert result.attempted > 10
    assert result.failed == 0


# =========================================================================== tables
def test_reliability_result_gives_item_table_with_summary_in_note(
    reliability: ReliabilityResult,
) -> None:
    tab = apa_table(reliability, "nl", number=2)
    assert isinstance(tab, ApaTable)
    assert tab.kind == "reliability_items"
    assert list(tab.frame.columns) == [
        "Item",
        "n",
        "M",
        "SD",
        "r_ir",
        "α zonder item",
        "ω_t zonder item",
    ]
    assert tab.frame.iloc[0].tolist() == ["q1", "212", "3,81", "0,81", ",66", ",80", ",81"]
    # q4 has 8 respondents: blanked (min_n 10) and explained
    assert tab.frame.iloc[3].tolist() == ["q4"] + [SUPPRESSED] * 6
    assert tab.note is not None
    assert "α = ,85, 95%-BI [,81; ,88]; ω_t = ,86; n = 212; k = 4" in tab.note
    assert "minder dan 10 respondenten" in tab.note
    assert tab.title == "Itemstatistieken"
    assert tab.label == "Tabel 2"
    assert tab.row_header


def test_reliability_summary_english(reliability: ReliabilityResult) -> None:
    tab = apa_table(reliability, "en", kind="reliability")
    assert list(tab.frame.columns) == ["n", "k", "α", "95% CI", "α_std", "r_avg", "ω_t"]
    assert tab.frame.iloc[0].tolist() == ["212", "4", ".85", "[.81, .88]", ".85", ".58", ".86"]
    assert tab.title == "Reliability by scale"
    assert not tab.row_header
    # several scales stacked, index = scale name
    scales = pd.concat(
        [reliability.summary, reliability.summary.assign(n=9)], keys=["RIPLS", "EPIS"]
    ).droplevel(1)
    tab2 = apa_table(scales, "nl")
    assert tab2.kind == "reliability"
    assert tab2.frame["Schaal"].tolist() == ["RIPLS", "EPIS"]
    assert tab2.frame.iloc[1, 1:].tolist() == [SUPPRESSED] * 7


def test_paired_change_table_nl_and_en(paired: pd.DataFrame) -> None:
    nl = apa_table(paired, "nl")
    assert nl.kind == "paired_change"
    assert list(nl.frame.columns) == [
        "n",
        "M_voor",
        "M_na",
        "M_verschil",
        "95%-BI",
        "t",
        "df",
        "p",
        "d_z",
        "95%-BI d_z",
        "d_av",
        "g",
        "V",
        "p_V",
        "r_rb",
    ]
    assert nl.frame.iloc[0].tolist() == [
        "48",
        "3,21",
        "3,66",
        "0,45",
        "[0,29; 0,61]",
        "5,59",
        "47",
        "< ,001",
        "0,81",
        "[0,48; 1,13]",
        "0,65",
        "0,65",
        "912,5",
        ",041",
        f"{MINUS},42",
    ]
    en = apa_table(paired, "en")
    assert en.frame.loc[0, "95% CI d_z"] == "[0.48, 1.13]"
    assert en.frame.loc[0, "M_diff"] == "0.45"
    assert en.title == "Change from pretest to posttest"
    assert "d_z = mean difference divided by the SD of the differences" in (en.note or "")


def test_paired_change_by_team_with_small_team(paired: pd.DataFrame) -> None:
    teams = pd.concat([paired, paired.assign(n=6)], ignore_index=True)
    teams.index = pd.Index(["ZW-2223-01", "ZW-2223-02"], name="team")
    tab = apa_table(teams, "nl")
    assert tab.frame.columns[0] == "Team"  # a named index keeps its name
    assert tab.frame.iloc[0, 1] == "48"
    assert set(tab.frame.iloc[1, 1:]) == {SUPPRESSED}
    no_check = apa_table(teams, "nl", min_n=None)
    assert no_check.frame.iloc[1, 1] == "6"
    five = apa_table(teams, "nl", min_n=5)
    assert five.frame.iloc[1, 1] == "6"


def test_compare_groups_and_pairwise() -> None:
    summary = pd.DataFrame(
        {
            "n": [120],
            "k": [3],
            "welch_f": [4.1234],
            "df1": [2.0],
            "df2": [71.342],
            "p_welch": [0.0204],
            "kruskal_h": [7.891],
            "p_kruskal": [0.0193],
            "omega_sq": [0.0412],
            "epsilon_sq": [0.0663],
        }
    )
    pairwise = pd.DataFrame(
        {
            "A": ["hbo", "hbo", "mbo"],
            "B": ["mbo", "ad", "ad"],
            "mean(A)": [3.9, 3.9, 3.4],
            "mean(B)": [3.4, 3.7, 3.7],
            "diff": [0.5, 0.2, -0.3],
            "se": [0.15, 0.2, 0.18],
            "T": [3.33, 1.0, -1.67],
            "df": [70.1, 40.2, 39.9],
            "pval": [0.004, 0.58, 0.23],
            "hedges": [0.61, 0.22, -0.35],
        }
    )
    result = GroupsResult(summary, pairwise)
    tab = apa_table(result, "en")
    assert tab.kind == "compare_groups"
    assert list(tab.frame.columns) == [
        "n",
        "k",
        "F_Welch",
        "df_1",
        "df_2",
        "p",
        "ω²",
        "H",
        "p_H",
        "ε²",
    ]
    assert tab.frame.iloc[0].tolist() == [
        "120",
        "3",
        "4.12",
        "2",
        "71.34",
        ".020",
        ".04",
        "7.89",
        ".019",
        ".07",
    ]
    pw = apa_table(result, "nl", kind="pairwise")
    assert pw.kind == "pairwise"
    assert list(pw.frame.columns) == [
        "A",
        "B",
        "M_A",
        "M_B",
        "M_verschil",
        "SE",
        "t",
        "df",
        "p",
        "g",
    ]
    assert pw.frame.iloc[2].tolist() == [
        "mbo",
        "ad",
        "3,40",
        "3,70",
        f"{MINUS}0,30",
        "0,18",
        f"{MINUS}1,67",
        "39,90",
        ",230",
        f"{MINUS}0,35",
    ]
    assert pw.title.startswith("Paarsgewijze vergelijkingen")


def test_mixed_model_tables() -> None:
    fixed = pd.DataFrame(
        {
            "estimate": [3.2051, 0.4123, 0.1034],
            "se": [0.0812, 0.0533, 0.0711],
            "df": [28.734, 512.0, 25.11],
            "t": [39.47, 7.735, 1.454],
            "p": [1e-25, 4.2e-14, 0.1583],
        },
        index=pd.Index(["(Intercept)", "wavepost", "wavepost:levelhbo"], name="term"),
    )
    random = pd.DataFrame(
        {
            "group": ["team", "Residual"],
            "term": ["(Intercept)", ""],
            "variance": [0.0412, 0.3318],
        }
    )
    result = MixedResult(fixed, random, icc=0.1104, loglik=-512.3, converged=True)
    tab = apa_table(result, "nl")
    assert tab.kind == "mixed_fixed"
    assert list(tab.frame.columns) == ["Effect", "b", "SE", "df", "t", "p"]
    assert tab.frame["Effect"].tolist() == ["Intercept", "wavepost", "wavepost:levelhbo"]
    assert tab.frame.iloc[2].tolist() == [
        "wavepost:levelhbo",
        "0,10",
        "0,07",
        "25,11",
        "1,45",
        ",158",
    ]
    assert tab.frame.iloc[1, -1] == "< ,001"
    note = tab.note or ""
    assert "Variantie team (Intercept) = 0,041" in note
    assert "Variantie Residu = 0,332" in note
    assert "ICC = ,11" in note
    labelled = apa_table(result, "en", row_labels={"wavepost": "Posttest vs pretest"})
    assert labelled.frame["Effect"].tolist()[1] == "Posttest vs pretest"
    rnd = apa_table(result, "en", kind="mixed_random")
    assert list(rnd.frame.columns) == ["Group", "Term", "Variance"]
    assert rnd.frame.iloc[1].tolist() == ["Residual", "", "0.332"]


def test_mixed_model_convergence_size_and_suppression() -> None:
    fixed = pd.DataFrame(
        {"estimate": [3.2], "se": [0.1], "df": [7.9], "t": [32.0], "p": [1e-9]},
        index=pd.Index(["(Intercept)"], name="term"),
    )
    random = pd.DataFrame(
        {"group": ["team", "Residual"], "term": ["(Intercept)", ""], "variance": [0.0, 0.3]}
    )
    groups = pd.Series({"team": 9})
    result = FullMixedResult(
        fixed, random, 0.0, -50.0, False, nobs=60, ngroups=groups, singular=True
    )
    tab = apa_table(result, "en")
    assert tab.frame.iloc[0].tolist() == ["Intercept", "3.20", "0.10", "7.90", "32.00", "< .001"]
    note = tab.note or ""
    assert "n = 60; team: 9 groups" in note
    assert "Caution: the model did not converge" in note
    assert "Singular fit" in note
    tiny = FullMixedResult(fixed, random, 0.0, -5.0, True, nobs=8, ngroups=groups, singular=False)
    small = apa_table(tiny, "nl")
    assert small.frame.iloc[0, 1:].tolist() == [SUPPRESSED] * 5
    assert "niet geconvergeerd" not in (small.note or "")


def test_pairwise_columns_of_the_analysis_layer() -> None:
    pairwise = pd.DataFrame(
        {
            "group1": ["a"],
            "group2": ["b"],
            "n1": [56.0],
            "n2": [76.0],
            "mean1": [2.92],
            "mean2": [2.934],
            "mean_diff": [0.014],
            "se": [0.11],
            "q": [0.16],
            "df": [125.06],
            "p": [0.993],
            "ci_low": [-0.36],
            "ci_high": [0.39],
            "hedges_g": [0.02],
            "hedges_g_ci_low": [-0.32],
            "hedges_g_ci_high": [0.36],
        }
    )
    tab = apa_table(pairwise, "en", kind="pairwise")
    assert list(tab.frame.columns) == [
        "Group 1", "Group 2", "n_1", "n_2", "M_1", "M_2", "M_diff", "SE", "q", "df", "p",
        "95% CI", "g", "95% CI g",
    ]  # fmt: skip
    assert tab.frame.iloc[0].tolist() == [
        "a", "b", "56", "76", "2.92", "2.93", "0.01", "0.11", "0.16", "125.06", ".993",
        f"[{MINUS}0.36, 0.39]", "0.02", f"[{MINUS}0.32, 0.36]",
    ]  # fmt: skip


def test_cfa_tables() -> None:
    fit = pd.DataFrame(
        {
            "n": [350],
            "chisq": [61.234],
            "df": [24.0],
            "p": [0.00004],
            "cfi": [0.9712],
            "tli": [0.9568],
            "rmsea": [0.0665],
            "srmr": [0.0412],
        }
    )
    loadings = pd.DataFrame(
        {
            "factor": ["F1", "F1", "F2"],
            "item": ["x1", "x2", "x4"],
            "estimate": [1.0, 1.1342, 0.8811],
            "std_estimate": [0.7123, 0.7754, 0.6402],
        }
    )
    result = CfaResult(fit, loadings)
    tab = apa_table(result, "en")
    assert tab.kind == "cfa_loadings"
    assert list(tab.frame.columns) == ["Factor", "Item", "λ", "λ_std"]
    assert tab.frame.iloc[1].tolist() == ["F1", "x2", "1.13", "0.78"]
    assert "χ²(24) = 61.23, p < .001; CFI = .971; TLI = .957; RMSEA = .067; SRMR = .041" in (
        tab.note or ""
    )
    fit_tab = apa_table(result, "nl", kind="cfa_fit")
    assert list(fit_tab.frame.columns) == ["n", "χ²", "df", "p", "CFI", "TLI", "RMSEA", "SRMR"]
    assert fit_tab.frame.iloc[0].tolist() == [
        "350",
        "61,23",
        "24",
        "< ,001",
        ",971",
        ",957",
        ",067",
        ",041",
    ]
    # measurement invariance: several models with difference tests
    inv = pd.concat([fit, fit, fit], ignore_index=True).assign(
        chisq_diff=[np.nan, 8.12, 20.5],
        df_diff=[np.nan, 5.0, 5.0],
        p_diff=[np.nan, 0.15, 0.001],
        delta_cfi=[np.nan, -0.002, -0.012],
    )
    inv.index = pd.Index(["configural", "metric", "scalar"], name="model")
    inv_tab = apa_table(inv, "en")
    assert inv_tab.frame["Model"].tolist() == ["configural", "metric", "scalar"]
    assert inv_tab.frame.loc[0, "Δχ²"] == NA
    assert inv_tab.frame.loc[2, "ΔCFI"] == f"{MINUS}.012"
    assert inv_tab.frame.loc[2, "p_Δχ²"] == ".001"
    assert "— = not available" in (inv_tab.note or "")


def test_generic_frame_and_decimals_override() -> None:
    frame = pd.DataFrame({"group": ["a", "b"], "score": [1.23456, -0.5], "p_value": [0.5, 0.01]})
    tab = apa_table(frame, "en", decimals={"score": 3}, title="Scores", note="Made up.")
    assert tab.kind == "generic"
    assert tab.frame.iloc[1].tolist() == ["b", f"{MINUS}0.500", ".010"]
    assert tab.title == "Scores"
    assert tab.note == "Made up."


def test_series_input_is_one_row(reliability: ReliabilityResult) -> None:
    tab = apa_table(reliability.summary.iloc[0], "en")
    assert tab.kind == "reliability"
    assert tab.frame.shape[0] == 1


def test_suppressed_frame_from_suppress_table() -> None:
    table = pd.DataFrame(
        {"niveau": ["mbo", "hbo", "Totaal"], "n": [25, 4, 29], "mean": [3.4, 3.9, 3.47]}
    ).set_index("niveau")
    tab = apa_table(suppress_table(table, "n"), "nl")
    assert "suppression" not in tab.frame.columns
    assert tab.frame["n"].tolist() == [SUPPRESSED, SUPPRESSED, "29"]
    assert tab.frame["M"].tolist() == [SUPPRESSED, SUPPRESSED, "3,47"]


def test_table_errors(reliability: ReliabilityResult) -> None:
    with pytest.raises(PresentationError, match=r"unknown table kind 'anova'.*use one of"):
        apa_table(reliability, "nl", kind="anova")
    with pytest.raises(PresentationError, match=r"holds no 'cfa_fit' table.*reliability"):
        apa_table(reliability, "nl", kind="cfa_fit")
    with pytest.raises(PresentationError, match=r"cannot make a table from a int"):
        apa_table(3, "nl")
    with pytest.raises(PresentationError, match=r"unknown language 'fr'"):
        apa_table(reliability, "fr")
    with pytest.raises(PresentationError, match=r"min_n must be a whole number >= 1, got 0"):
        apa_table(reliability, "nl", min_n=0)
    bad = reliability.summary.assign(p=[1.7])
    with pytest.raises(PresentationError, match=r"p-value must lie between 0 and 1"):
        apa_table(bad, "nl", kind="generic")
    assert "paired_change" in table_kinds()


# =========================================================================== HTML
class _Structure(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_html_is_accessible(reliability: ReliabilityResult) -> None:
    tab = apa_table(reliability, "nl", number=3)
    html = tab.to_html(table_id="tab-3")
    parsed = _Structure()
    parsed.feed(html)
    names = [t for t, _ in parsed.tags]
    assert names[0] == "table"
    assert parsed.tags[0][1] == {"class": "apa-table", "lang": "nl", "id": "tab-3"}
    assert names.count("caption") == 1
    col_heads = [a for t, a in parsed.tags if t == "th" and a.get("scope") == "col"]
    row_heads = [a for t, a in parsed.tags if t == "th" and a.get("scope") == "row"]
    assert len(col_heads) == tab.frame.shape[1]
    assert len(row_heads) == tab.frame.shape[0]
    assert all(set(a) <= {"scope"} for t, a in parsed.tags if t == "th")
    assert not any("style" in a or "hidden" in a for _, a in parsed.tags)
    assert "aria-hidden" not in html
    assert "tfoot" in names
    text = "".join(parsed.text)
    assert "Tabel 3" in text and "Itemstatistieken" in text and "Noot." in text
    assert "<i>r</i><sub>ir</sub>" in html
    assert "zo&#x27;n" in html  # escaped
    assert tab._repr_html_() == tab.to_html()


def test_css_has_rules_and_hides_nothing() -> None:
    css = apa_css()
    assert "border-top" in css and "caption" in css
    assert "display: none" not in css and "visibility" not in css


def test_package_exports_resolve_lazily() -> None:
    import ipo_research.present as present

    assert present.apa_table is apa_table
    assert set(present.__all__) == set(present._LAZY)
    for name in present.__all__:
        module = importlib.import_module(f"ipo_research.present.{present._LAZY[name]}")
        assert getattr(present, name) is getattr(module, name), name
    with pytest.raises(AttributeError, match=r"has no attribute 'nope'"):
        _ = present.nope
