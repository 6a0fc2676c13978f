"""Small-cell suppression (ipo_research.present.suppress)."""

from __future__ import annotations

import doctest

import numpy as np
import pandas as pd
import pytest

from ipo_research.errors import PresentationError
from ipo_research.present import suppress
from ipo_research.present.suppress import (
    DEFAULT_MIN_N,
    is_publishable,
    suppress_crosstab,
    suppress_table,
    suppression_note,
)


def _two_way(rng: np.random.Generator) -> pd.DataFrame:
    """Counts and means by region x level, with row, column and grand margins."""
    cells = {
        ("Zwolle", "mbo"): 42,
        ("Zwolle", "hbo"): 7,  # small cell
        ("Deventer", "mbo"): 18,
        ("Deventer", "hbo"): 25,
    }
    means = {key: round(float(rng.uniform(3.0, 4.5)), 3) for key in cells}
    rows = [
        {"regio": r, "niveau": lv, "n": n, "gemiddelde": means[(r, lv)]}
        for (r, lv), n in cells.items()
    ]
    for region in ("Zwolle", "Deventer"):
        n = sum(v for (r, _), v in cells.items() if r == region)
        rows.append({"regio": region, "niveau": "Totaal", "n": n, "gemiddelde": 3.5})
    for level in ("mbo", "hbo"):
        n = sum(v for (_, lv), v in cells.items() if lv == level)
        rows.append({"regio": "Totaal", "niveau": level, "n": n, "gemiddelde": 3.6})
    rows.append(
        {"regio": "Totaal", "niveau": "Totaal", "n": sum(cells.values()), "gemiddelde": 3.55}
    )
    return pd.DataFrame(rows)


def _hidden(result: pd.DataFrame) -> set[tuple[str, str]]:
    mask = result["n"].isna()
    return set(zip(result.loc[mask, "regio"], result.loc[mask, "niveau"], strict=True))


def test_is_publishable() -> None:
    assert DEFAULT_MIN_N == 10
    assert is_publishable(10)
    assert not is_publishable(9)
    assert is_publishable(5, min_n=5)
    assert not is_publishable(4, min_n=5)
    assert not is_publishable(None)
    assert not is_publishable(float("nan"))
    assert is_publishable(np.int64(12))
    with pytest.raises(PresentationError, match=r"n must be a number, got 'veel'"):
        is_publishable("veel")
    with pytest.raises(PresentationError, match=r"min_n must be a whole number >= 1, got 2.5"):
        is_publishable(3, min_n=2.5)  # type: ignore[arg-type]


def test_primary_only_without_margins() -> None:
    table = pd.DataFrame(
        {"team": ["A", "B", "C"], "n": [12, 3, 10], "mean": [3.1, 4.2, 3.3], "sd": [0.5, 0.4, 0.7]}
    )
    out = suppress_table(table, "n")
    assert out["n"].isna().tolist() == [False, True, False]
    assert out["mean"].isna().tolist() == [False, True, False]
    assert out["sd"].isna().tolist() == [False, True, False]
    assert out["team"].tolist() == ["A", "B", "C"]  # keys never blanked
    assert out["suppression"].tolist() == ["", "onderdrukt: minder dan 10 respondenten", ""]
    assert table["n"].tolist() == [12, 3, 10]  # input untouched
    five = suppress_table(table, "n", 5, lang="en")
    assert five["suppression"].tolist() == ["", "suppressed: fewer than 5 respondents", ""]


def test_secondary_one_way_with_margin() -> None:
    table = pd.DataFrame(
        {
            "opleiding": ["Pabo", "Social Work", "Onderwijsassistent", "Totaal"],
            "n": [30, 6, 14, 50],
            "mean": [3.9, 3.1, 3.5, 3.71],
        }
    )
    out = suppress_table(table, "n")
    # Social Work is primary; the total would reveal it, so the smallest other part goes too
    assert out["n"].isna().tolist() == [False, True, True, False]
    assert out["mean"].isna().tolist() == [False, True, True, False]
    assert out.loc[2, "suppression"] == "onderdrukt: anders herleidbaar uit een totaal"
    without = suppress_table(table, "n", secondary=False)
    assert without["n"].isna().tolist() == [False, True, False, False]


def test_secondary_margin_when_no_part_left() -> None:
    table = pd.DataFrame({"niveau": ["hbo", "Totaal"], "n": [8, 8], "mean": [3.0, 3.0]})
    out = suppress_table(table, "n")
    assert out["n"].isna().all()  # the total is itself < 10 here


def test_secondary_two_way_counts_and_means(rng: np.random.Generator) -> None:
    table = _two_way(rng)
    out = suppress_table(table, "n", keys=["regio", "niveau"])
    hidden = _hidden(out)
    # primary: Zwolle/hbo (7); row group Zwolle -> Zwolle/mbo; column group hbo ->
    # Deventer/hbo; then row group Deventer has one hidden -> Deventer/mbo
    assert hidden == {
        ("Zwolle", "hbo"),
        ("Zwolle", "mbo"),
        ("Deventer", "hbo"),
        ("Deventer", "mbo"),
    }
    # every margin group now has 0 or >= 2 hidden cells
    for col, other in (("regio", "niveau"), ("niveau", "regio")):
        for _, group in out.groupby(other):
            assert group["n"].isna().sum() != 1, (col, group)
    # margins stay published, means blanked together with counts
    assert out.loc[out["regio"].eq("Totaal"), "n"].notna().all()
    assert out["gemiddelde"].isna().equals(out["n"].isna())
    reasons = out.set_index(["regio", "niveau"])["suppression"]
    assert reasons[("Zwolle", "hbo")].startswith("onderdrukt: minder dan")
    assert reasons[("Deventer", "mbo")] == "onderdrukt: anders herleidbaar uit een totaal"


def test_secondary_picks_smallest_published_cell() -> None:
    table = pd.DataFrame(
        {
            "team": ["A", "B", "C", "D", "Totaal"],
            "n": [40, 4, 25, 12, 81],
            "mean": [3.0, 3.1, 3.2, 3.3, 3.1],
        }
    )
    out = suppress_table(table, "n")
    assert out["n"].isna().tolist() == [False, True, False, True, False]


def test_two_small_cells_need_no_secondary() -> None:
    table = pd.DataFrame(
        {"team": ["A", "B", "C", "Totaal"], "n": [40, 4, 3, 47], "mean": [3.0, 3.1, 3.2, 3.05]}
    )
    out = suppress_table(table, "n")
    assert out["n"].isna().tolist() == [False, True, True, False]
    assert (out["suppression"] == "onderdrukt: anders herleidbaar uit een totaal").sum() == 0


def test_index_keys_and_missing_counts() -> None:
    table = pd.DataFrame(
        {"n": [15, np.nan, 20, 47], "pct": [31.9, 10.6, 42.6, 100.0]},
        index=pd.MultiIndex.from_tuples(
            [("2023", "mbo"), ("2023", "hbo"), ("2023", "ad"), ("2023", "Totaal")],
            names=["cohort", "niveau"],
        ),
    )
    out = suppress_table(table, "n", keys=["cohort", "niveau"])
    assert out.index.equals(table.index)
    assert out["pct"].isna().tolist() == [True, True, False, False]


def test_crosstab_with_margins() -> None:
    counts = pd.DataFrame(
        {"mbo": [20, 3, 23], "hbo": [15, 30, 45], "Totaal": [35, 33, 68]},
        index=["Zwolle", "Deventer", "Totaal"],
    )
    out = suppress_crosstab(counts)
    assert out.shape == counts.shape
    assert out.index.tolist() == counts.index.tolist()
    hidden = {(r, c) for r in out.index for c in out.columns if np.isnan(out.loc[r, c])}
    assert hidden == {
        ("Deventer", "mbo"),
        ("Deventer", "hbo"),
        ("Zwolle", "mbo"),
        ("Zwolle", "hbo"),
    }
    assert out.loc["Totaal", "Totaal"] == 68
    # pandas' own margins label
    ct = pd.crosstab(
        pd.Series(["a"] * 20 + ["b"] * 4 + ["a"] * 15, name="x"),
        pd.Series(["u"] * 24 + ["v"] * 15, name="y"),
        margins=True,
    )
    out2 = suppress_crosstab(ct)
    assert np.isnan(out2.loc["b", "u"])
    assert int(out2.isna().sum().sum()) >= 2


def test_errors() -> None:
    table = pd.DataFrame({"team": ["A"], "n": [12], "mean": [3.0]})
    with pytest.raises(PresentationError, match=r"count column 'aantal' not found"):
        suppress_table(table, "aantal")
    with pytest.raises(
        PresentationError, match=r"keys name columns that are not in the table: regio"
    ):
        suppress_table(table, "n", keys=["regio"])
    with pytest.raises(
        PresentationError, match=r"stat_cols name columns that are not in the table: sd"
    ):
        suppress_table(table, "n", stat_cols=["sd"])
    with pytest.raises(PresentationError, match=r"min_n must be a whole number >= 1, got 0"):
        suppress_table(table, "n", 0)
    with pytest.raises(PresentationError, match=r"count column 'team' holds no numbers"):
        suppress_table(table, "team")
    with pytest.raises(PresentationError, match=r"data must be a DataFrame, got list"):
        suppress_table([1, 2], "n")  # type: ignore[arg-type]
    with pytest.raises(PresentationError, match=r"counts must be a DataFrame, got dict"):
        suppress_crosstab({"a": 1})  # type: ignore[arg-type]


def test_note_and_doctests() -> None:
    assert suppression_note(5, "nl").startswith("x = Onderdrukt")
    assert "fewer than 5 respondents" in suppression_note(5, "en")
    result = doctest.testmod(suppress)
    assert result.attempted >= 5
    assert result.failed == 0
