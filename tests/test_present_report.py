"""Report helpers (ipo_research.present.report): data selection, tables, records."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ipo_research.analysis import paired_change
from ipo_research.errors import PresentationError, ReportError
from ipo_research.present import report as rep


@pytest.fixture
def long() -> pd.DataFrame:
    """40 respondents in 2 levels, pre and post; 3 without a posttest; a team of 4."""
    rng = np.random.default_rng(42)
    rows = []
    for i in range(40):
        level = "mbo" if i < 22 else "hbo"
        team = "T1" if i < 4 else None
        base = rng.normal(3.5, 0.5)
        rows.append({"respondent": f"r{i}", "wave": "pre", "Niveau": level, "Leerteam": team,
                     "Regio": "Zwolle" if i % 2 else "Deventer", "total": base})
        if i >= 3:
            rows.append({"respondent": f"r{i}", "wave": "post", "Niveau": level,
                         "Leerteam": team, "Regio": "Zwolle" if i % 2 else "Deventer",
                         "total": base + 0.3 + rng.normal(0, 0.3)})
    return pd.DataFrame(rows)


def test_select_filters_and_alle_means_everything(long: pd.DataFrame) -> None:
    assert len(rep.select(long, Regio="alle", Niveau=None)) == len(long)
    zwolle = rep.select(long, Regio="Zwolle", Niveau="hbo")
    assert set(zwolle["Regio"]) == {"Zwolle"} and set(zwolle["Niveau"]) == {"hbo"}
    with pytest.raises(ReportError, match=r"no rows with Regio = 'Kampen'.*Deventer, Zwolle"):
        rep.select(long, Regio="Kampen")
    with pytest.raises(ReportError, match="no column 'Cohort'"):
        rep.select(long, Cohort="2023-2024")


def test_pre_post_pairs_respondents_without_ids(long: pd.DataFrame) -> None:
    wide = rep.pre_post(long, "total")
    assert len(wide) == 40 and "respondent" not in wide.columns
    assert wide["post"].isna().sum() == 3
    first = long[long["respondent"] == "r10"].set_index("wave")["total"]
    row = wide.iloc[10]
    assert row["pre"] == first["pre"] and row["post"] == first["post"]
    with pytest.raises(ReportError, match="no column 'nope'"):
        rep.pre_post(long, "nope")


def test_change_by_matches_paired_change_and_suppresses(long: pd.DataFrame) -> None:
    wide = rep.pre_post(long, "total")
    table = rep.change_by(wide, "Niveau", min_n=10)
    assert list(table.index) == ["hbo", "mbo", "Totaal"]
    expected = paired_change(wide[wide["Niveau"] == "mbo"], "pre", "post").iloc[0]
    assert table.loc["mbo", "d_z"] == pytest.approx(expected["d_z"], rel=1e-12)
    assert table.loc["Totaal", "n"] == 37
    teams = rep.change_by(wide, "Leerteam", min_n=10, total=False)
    assert teams.loc["T1", "suppression"].startswith("onderdrukt")
    assert teams[["n", "d_z", "mean_diff"]].isna().all(axis=None)
    # with a lower minimum the team's count is shown; one pair gives no statistics
    shown = rep.change_by(wide, "Leerteam", min_n=1, total=False, lang="en")
    assert shown.loc["T1", "n"] == 1 and shown.loc["T1", "suppression"] == ""
    assert np.isnan(shown.loc["T1", "d_z"])


def test_change_by_secondary_suppression_protects_the_small_group(long: pd.DataFrame) -> None:
    wide = rep.pre_post(long, "total")
    table = rep.change_by(wide, "Niveau", min_n=19)  # hbo has 18 pairs, mbo 19
    assert np.isnan(table.loc["hbo", "n"])
    # mbo would reveal hbo through the total: the smallest published part (mbo) is blanked
    assert np.isnan(table.loc["mbo", "n"]) and np.isnan(table.loc["mbo", "d_z"])
    assert table.loc["mbo", "suppression"] == "onderdrukt: anders herleidbaar uit een totaal"
    assert table.loc["Totaal", "n"] == 37 and table.loc["Totaal", "suppression"] == ""


def test_response_counts_and_count_table(long: pd.DataFrame) -> None:
    counts = rep.response_counts(long, "Niveau", min_n=10)
    assert counts.loc["Totaal", "pre"] == 40 and counts.loc["Totaal", "post"] == 37
    assert counts.loc["mbo", "both"] == 19
    table = rep.count_table(counts, title="Respons", lang="nl", number=1)
    assert table.frame.columns.tolist() == ["Niveau", "Voormeting", "Nameting",
                                            "Beide metingen"]
    small = rep.response_counts(long, "Leerteam", min_n=10)
    assert small.loc["T1"].isna().all()
    html = rep.count_table(small, title="Respons", min_n=10).to_html()
    assert "<td>x</td>" in html and "minder dan 10" in html


def test_score_descriptives(long: pd.DataFrame) -> None:
    table = rep.score_descriptives(long, ["total"], labels={"total": "totaalscore"}, min_n=38)
    assert list(table.index) == ["totaalscore, voormeting", "totaalscore, nameting"]
    assert table.loc["totaalscore, voormeting", "n"] == 40
    assert np.isnan(table.loc["totaalscore, nameting", "mean"])  # 37 < 38


def test_record_and_read_back() -> None:
    nb = {"cells": [
        {"cell_type": "code", "outputs": [
            {"output_type": "display_data", "data": {rep.RECORD_MIME: {"n": 3, "d_z": 0.5}}}]},
        {"cell_type": "markdown", "source": "x"},
        {"cell_type": "code", "outputs": [
            {"output_type": "display_data", "data": {rep.RECORD_MIME: '{"alpha": 0.8}'}}]},
    ]}
    assert rep.read_records(nb) == {"n": 3, "d_z": 0.5, "alpha": 0.8}
    nb["cells"].append(nb["cells"][0])
    with pytest.raises(ReportError, match="'n' is recorded twice"):
        rep.read_records(nb)
    assert rep._jsonable({"a": np.float64(np.nan), "b": [np.int64(2)]}) == {"a": None, "b": [2]}
    with pytest.raises(PresentationError, match="cannot record a value of type object"):
        rep._jsonable(object())


def test_show_rejects_unknown_objects() -> None:
    with pytest.raises(PresentationError, match="cannot show a int"):
        rep.show(3)
    with pytest.raises(PresentationError, match="heading level must be 1-4"):
        rep.heading("x", 7)
