"""Cleaning: recoding, every quality rule, wave matching, identifiers, audit and schema."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ipo_research.cleaning import (
    CleaningResult,
    CleaningRules,
    clean,
    find_identifiers,
    item_columns,
)
from ipo_research.cleaning.identifiers import identifier_by_content, identifier_by_name
from ipo_research.cleaning.pseudonym import pseudonym
from ipo_research.cleaning.recode import Recoder, recode_column
from ipo_research.errors import CleaningError, PrivacyError, SchemaError
from ipo_research.instruments import load_instrument
from ipo_research.instruments.model import Instrument

NL = ("Helemaal mee oneens", "Mee oneens", "Neutraal", "Mee eens", "Helemaal mee eens")
EN = ("Strongly disagree", "Disagree", "Neutral", "Agree", "Strongly agree")
ITEMS = ("q1", "q2", "q3", "q4")
COLS = {f"Vraag {i}": f"q{i}" for i in range(1, 5)}


@pytest.fixture
def inst() -> Instrument:
    return Instrument(
        "TOY", ITEMS, 1, 5, reverse=("q3",), subscales={"A": ("q1", "q2"), "B": ("q3", "q4")},
        labels={"nl": NL, "en": EN}, na_labels=("n.v.t.",), min_answered=0.75,
    )


def _raw(rows: list[dict[str, object]]) -> pd.DataFrame:
    base = {"Studentnummer": "1000001", "Meting": "voormeting", "Regio": "Zwolle",
            "Vraag 1": "4", "Vraag 2": "2", "Vraag 3": "1", "Vraag 4": "3"}
    return pd.DataFrame([{**base, **r} for r in rows])


def _clean(raw: pd.DataFrame, inst: Instrument, key: bytes, **rules: object) -> CleaningResult:
    return clean(raw, inst, respondent="Studentnummer", wave="Meting", columns=COLS, key=key,
                 rules=CleaningRules(**rules))  # type: ignore[arg-type]


def _reason(audit: pd.DataFrame, step: str, contains: str = "") -> pd.Series:
    rows = audit[(audit["step"] == step) & audit["reason"].str.contains(contains, regex=False)]
    assert len(rows) == 1, rows
    return rows.iloc[0]


# --------------------------------------------------------------------------- recoding
def test_recode_numbers_labels_and_decimal_comma(inst: Instrument) -> None:
    col = pd.Series(["4", " 4,0 ", "mee EENS", "Strongly  agree", 2, "1.0", None, ""])
    rec = recode_column(col, Recoder(inst))
    np.testing.assert_array_equal(rec.values, [4, 4, 4, 5, 2, 1, np.nan, np.nan])
    assert rec.labels == 2
    assert rec.count("missing") == 2


def test_recode_out_of_range_text_and_na_are_counted_not_clipped(inst: Instrument) -> None:
    col = pd.Series(["0", "6", "55", "3,5", "weet ik niet", "n.v.t.", "N.V.T.", "5"])
    rec = recode_column(col, Recoder(inst))
    assert np.isnan(rec.values[:7]).all() and rec.values[7] == 5
    assert (rec.count("range"), rec.count("text"), rec.count("na")) == (4, 1, 2)


def test_recode_numeric_column_fast_path(inst: Instrument) -> None:
    rec = recode_column(pd.Series([1.0, 5.0, 6.0, np.nan, 2.5, 0.0]), Recoder(inst))
    np.testing.assert_array_equal(rec.values, [1, 5, np.nan, np.nan, np.nan, np.nan])
    assert (rec.count("range"), rec.count("missing")) == (3, 1)


def test_item_specific_labels_iccas_item21() -> None:
    iccas = load_instrument("ICCAS")
    rec = recode_column(pd.Series(["Veel beter nu", "Mee eens"]), Recoder(iccas, "q21"))
    assert rec.values[0] == 1 and rec.count("text") == 1


def test_recoded_items_and_reverse_keying(inst: Instrument, hmac_key: bytes) -> None:
    raw = _raw([{"Vraag 1": "Mee eens", "Vraag 2": "2,0", "Vraag 3": "1", "Vraag 4": 3}])
    res = _clean(raw, inst, hmac_key, straightlining="off")
    row = res.data.iloc[0]
    assert (row.q1, row.q2, row.q3, row.q4) == (4.0, 2.0, 5.0, 3.0)  # q3: 1 + 5 - 1
    assert row.A == 3.0 and row.B == 4.0 and row.total == pytest.approx(3.5)
    assert _reason(res.audit, "reverse keying").cells_changed == 1


def test_scores_need_min_answered(inst: Instrument, hmac_key: bytes) -> None:
    raw = _raw([
        {"Studentnummer": "1", "Vraag 1": "", "Vraag 2": "2"},                  # A: 1/2 < .75
        {"Studentnummer": "2", "Vraag 1": "", "Vraag 2": "", "Vraag 3": "1"},   # total 2/4
    ])
    res = _clean(raw, inst, hmac_key)
    data = res.data
    assert np.isnan(data.loc[0, "A"]) and data.loc[0, "B"] == 4.0
    assert data.loc[0, "total"] == pytest.approx((2 + 5 + 3) / 3)
    assert np.isnan(data.loc[1, "total"]) and bool(data.loc[1, "flag_too_few"])
    few = _reason(res.audit, "too few answered")
    assert few.rows_flagged == 1 and few.rows_dropped == 0
    scores = _reason(res.audit, "scores")
    assert scores.cells_changed == 3  # A twice, total once (B of row 2 has 1/2 -> too few too)


def test_min_answered_override(inst: Instrument, hmac_key: bytes) -> None:
    raw = _raw([{"Vraag 1": "", "Vraag 2": "2"}])
    res = _clean(raw, inst, hmac_key, min_answered=0.5)
    assert res.data.loc[0, "A"] == 2.0


def test_strict_mode_names_file_row_and_column(inst: Instrument, hmac_key: bytes) -> None:
    raw = _raw([{}, {"Studentnummer": "2", "Vraag 2": "geen idee"}])
    raw.attrs.update(file="data/raw/x.csv", row_offset=2)
    with pytest.raises(CleaningError, match=r"neither a number nor a label .*file data/raw/x.csv, "
                       r"row 3, column 'Vraag 2'"):
        _clean(raw, inst, hmac_key, strict=True)
    res = _clean(raw, inst, hmac_key)
    assert _reason(res.audit, "recode", "text").cells_changed == 1


# --------------------------------------------------------------------------- rules
def test_duplicates_keep_latest_complete(inst: Instrument, hmac_key: bytes) -> None:
    raw = _raw([
        {"Einddatum": "01-10-2023 10:00", "Vraag 1": "1"},                     # earlier, complete
        {"Einddatum": "02-10-2023 09:00", "Vraag 1": "5"},                     # latest complete
        {"Einddatum": "03-10-2023 09:00", "Vraag 1": "", "Vraag 2": "",
         "Vraag 3": ""},                                                         # later, incomplete
    ])
    res = _clean(raw, inst, hmac_key, straightlining="off")
    assert len(res.data) == 1 and res.data.loc[0, "q1"] == 5.0
    assert _reason(res.audit, "duplicates").rows_dropped == 2
    latest = _clean(raw, inst, hmac_key, straightlining="off", duplicates="latest")
    assert np.isnan(latest.data.loc[0, "q1"])
    first = _clean(raw, inst, hmac_key, straightlining="off", duplicates="first")
    assert first.data.loc[0, "q1"] == 1.0


def test_duplicates_keep_policy_fails_schema(inst: Instrument, hmac_key: bytes) -> None:
    raw = _raw([{}, {}])
    with pytest.raises(SchemaError, match="respondent"):
        _clean(raw, inst, hmac_key, duplicates="keep", straightlining="off")


def test_speeders_dropped_or_flagged(inst: Instrument, hmac_key: bytes) -> None:
    raw = _raw([{"Studentnummer": str(i), "Duur (sec)": d}
                for i, d in enumerate(["300", "310,5", "290", "80", "90"])])
    res = _clean(raw, inst, hmac_key)
    speed = _reason(res.audit, "speeders")
    assert speed.rows_dropped == 2 and "median 290.0 s" in speed.reason
    flagged = _clean(raw, inst, hmac_key, speeders="flag")
    assert flagged.data["flag_speeder"].tolist() == [False, False, False, True, True]
    absolute = _clean(raw, inst, hmac_key, speeder_seconds=85)
    assert _reason(absolute.audit, "speeders").rows_dropped == 1
    off = _clean(raw, inst, hmac_key, speeders="off")
    assert len(off.data) == 5


def test_duration_text_is_an_error(inst: Instrument, hmac_key: bytes) -> None:
    raw = _raw([{"Duur (sec)": "300"}, {"Studentnummer": "2", "Duur (sec)": "vijf minuten"}])
    with pytest.raises(CleaningError, match=r"duration is not a number \(row 2, column 'Duur"):
        _clean(raw, inst, hmac_key)


def test_straightlining_before_reverse_keying(inst: Instrument, hmac_key: bytes) -> None:
    raw = _raw([
        {"Studentnummer": "1", "Vraag 1": "4", "Vraag 2": "4", "Vraag 3": "4", "Vraag 4": "4"},
        {"Studentnummer": "2", "Vraag 1": "4", "Vraag 2": "Mee eens", "Vraag 3": "4",
         "Vraag 4": ""},                                          # 3 answered, all 4
        {"Studentnummer": "3", "Vraag 1": "4", "Vraag 2": "4", "Vraag 3": "2", "Vraag 4": "4"},
    ])
    res = _clean(raw, inst, hmac_key)
    assert _reason(res.audit, "straight-lining").rows_dropped == 2
    assert len(res.data) == 1
    strict = _clean(raw, inst, hmac_key, straightline_min_items=4)
    assert _reason(strict.audit, "straight-lining").rows_dropped == 1


def test_too_few_can_drop(inst: Instrument, hmac_key: bytes) -> None:
    raw = _raw([{}, {"Studentnummer": "2", "Vraag 1": "", "Vraag 2": ""}])
    res = _clean(raw, inst, hmac_key, too_few="drop")
    assert len(res.data) == 1 and "flag_too_few" not in res.data
    assert _reason(res.audit, "too few answered").rows_dropped == 1


def test_missing_id_and_unknown_wave_dropped(inst: Instrument, hmac_key: bytes) -> None:
    raw = _raw([{}, {"Studentnummer": None}, {"Studentnummer": " "},
                {"Studentnummer": "3", "Meting": "tussenmeting"}, {"Studentnummer": "4",
                                                                   "Meting": None}])
    res = _clean(raw, inst, hmac_key)
    assert _reason(res.audit, "respondent").rows_dropped == 2
    wave = _reason(res.audit, "wave")
    assert wave.rows_dropped == 2 and "tussenmeting" in wave.details


def test_wave_mapping_and_matching(inst: Instrument, hmac_key: bytes) -> None:
    raw = _raw([
        {"Studentnummer": "1", "Meting": "Voormeting "}, {"Studentnummer": "1", "Meting": "NAMETING"},
        {"Studentnummer": "2", "Meting": "voormeting", "Vraag 1": "5"},
    ])
    res = _clean(raw, inst, hmac_key)
    data = res.data
    assert data["wave"].tolist() == ["pre", "post", "pre"]
    assert data["matched"].tolist() == [True, True, False]
    waves = _reason(res.audit, "waves")
    assert waves.rows_flagged == 1 and "1 of 2 respondents unmatched" in waves.details
    dropped = _clean(raw, inst, hmac_key, drop_unmatched=True)
    assert len(dropped.data) == 2
    custom = _clean(raw.assign(Meting="T0"), inst, hmac_key,
                    waves={"t0": "baseline"})
    assert set(custom.data["wave"]) == {"baseline"}


def test_wave_value_for_one_wave_export(inst: Instrument, hmac_key: bytes) -> None:
    raw = _raw([{}]).drop(columns="Meting")
    res = clean(raw, inst, respondent="Studentnummer", wave_value="post", columns=COLS,
                key=hmac_key)
    assert res.data["wave"].tolist() == ["post"]


def test_audit_arithmetic_on_random_mess(inst: Instrument, hmac_key: bytes,
                                         rng: np.random.Generator) -> None:
    n = 400
    answers = rng.choice(["1", "2", "3", "4", "5", "", "9", "x", "Mee eens", "3,0"], (n, 4))
    raw = pd.DataFrame(answers, columns=list(COLS))
    raw.insert(0, "Studentnummer", rng.integers(1000000, 1000150, n).astype(str))
    raw.insert(1, "Meting", rng.choice(["voormeting", "nameting", "?"], n))
    raw["Duur (sec)"] = rng.uniform(10, 600, n).round(1)
    res = _clean(raw, inst, hmac_key)
    audit = res.audit
    assert audit["rows_dropped"].sum() + len(res.data) == n
    assert (audit["rows_dropped"] > 0).sum() >= 3
    cells = audit[audit["step"] == "recode"].set_index("reason")["cells_changed"]
    assert cells.filter(like="outside").iloc[0] == (answers == "9").sum()
    assert cells.filter(like="text").iloc[0] == (answers == "x").sum()
    assert cells.filter(like="missing answer").iloc[0] == (answers == "").sum()
    assert cells.filter(like="recoded to").iloc[0] == (answers == "Mee eens").sum()
    assert not res.data.duplicated(["respondent", "wave"]).any()


def test_every_rule_is_in_the_audit(inst: Instrument, hmac_key: bytes) -> None:
    res = _clean(_raw([{}]), inst, hmac_key, straightlining="off")
    steps = set(res.audit["step"])
    assert {"privacy", "recode", "respondent", "wave", "duplicates", "speeders",
            "straight-lining", "too few answered", "reverse keying", "scores",
            "waves"} <= steps
    assert list(res.audit.columns) == ["step", "reason", "rows_dropped", "rows_flagged",
                                       "cells_changed", "columns", "details"]


def test_rules_refuse_bad_values() -> None:
    with pytest.raises(CleaningError, match="unknown value 'sometimes' for rule 'speeders'"):
        CleaningRules(speeders="sometimes")  # type: ignore[arg-type]
    with pytest.raises(CleaningError, match="speeder_fraction must lie between 0 and 1"):
        CleaningRules(speeder_fraction=1.5)
    with pytest.raises(CleaningError, match=r"min_answered must lie in \(0, 1\]"):
        CleaningRules(min_answered=0)
    with pytest.raises(CleaningError, match="unknown cleaning rule 'speedr'"):
        CleaningRules.from_mapping({"speedr": "drop"}, where="p.yaml")


# --------------------------------------------------------------------------- bad input
def test_missing_columns_are_named(inst: Instrument, hmac_key: bytes) -> None:
    raw = _raw([{}])
    raw.attrs["file"] = "export.csv"
    with pytest.raises(CleaningError, match=r"mapped column not in the export \(file export.csv, "
                       r"column 'Vraag 9'"):
        clean(raw, inst, respondent="Studentnummer", wave="Meting",
              columns={**COLS, "Vraag 9": "q4"}, key=hmac_key)
    with pytest.raises(CleaningError, match=r"item 'q4' has no column .*column 'q4'"):
        clean(raw, inst, respondent="Studentnummer", wave="Meting",
              columns={k: v for k, v in COLS.items() if v != "q4"}, key=hmac_key)
    with pytest.raises(CleaningError, match=r"respondent column not in the export .*'Student'"):
        clean(raw, inst, respondent="Student", wave="Meting", columns=COLS, key=hmac_key)
    with pytest.raises(CleaningError, match=r"wave column not in the export .*'Wave'"):
        clean(raw, inst, respondent="Studentnummer", wave="Wave", columns=COLS, key=hmac_key)
    with pytest.raises(CleaningError, match="no wave column and no wave_value"):
        clean(raw, inst, respondent="Studentnummer", columns=COLS, key=hmac_key)
    with pytest.raises(CleaningError, match="two raw columns map to 'q1'"):
        clean(raw, inst, respondent="Studentnummer", wave="Meting",
              columns={**COLS, "Regio": "q1"}, key=hmac_key)


def test_no_key_nothing_runs(inst: Instrument, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IPO_RESEARCH_KEY", raising=False)
    monkeypatch.delenv("IPO_RESEARCH_KEY_FILE", raising=False)
    with pytest.raises(PrivacyError, match="no pseudonymisation key"):
        clean(_raw([{}]), inst, respondent="Studentnummer", wave="Meting", columns=COLS)


# --------------------------------------------------------------------------- privacy
def test_identifier_detection_by_name_and_content() -> None:
    assert identifier_by_name("E-mailadres") and identifier_by_name("Voornaam")
    assert identifier_by_name("IPAddress") and identifier_by_name("RecipientEmail")
    assert not identifier_by_name("Opleiding") and not identifier_by_name("Meting")
    assert identifier_by_content(pd.Series(["a.b@school.nl", "c@d.com"])) == "e-mail addresses"
    assert identifier_by_content(pd.Series(["06-12345678", "+31 6 1234 5678"])) == "phone numbers"
    assert "student" in str(identifier_by_content(pd.Series(["1234567", "7654321"])))
    assert "student" in str(identifier_by_content(pd.Series([1234567.0, 7654321.0])))
    assert identifier_by_content(pd.Series(["192.168.1.20"])) == "IP addresses"
    assert identifier_by_content(pd.Series(["2021-2022", "2022-2023"])) is None
    assert identifier_by_content(pd.Series(["ZW-2223-07"] * 30)) is None
    names = pd.Series([f"Persoon {chr(65 + i)}{chr(70 + i)}" for i in range(25)])
    assert "free text" in str(identifier_by_content(names))


def test_identifiers_never_reach_data(inst: Instrument, hmac_key: bytes) -> None:
    raw = _raw([{"Studentnummer": str(1000000 + i), "Meting": "voormeting",
                 "Naam": f"Student {i}", "E-mail": f"s{i}@school.nl", "Telefoon": f"0612345{i:03d}",
                 "Contact": f"x{i}@mail.com", "Code": str(2000000 + i), "Geheim": "abc",
                 "Vraag 1": str(1 + i % 5)} for i in range(30)])
    res = clean(raw, inst, respondent="Studentnummer", wave="Meting", columns=COLS,
                key=hmac_key, rules=CleaningRules(identifiers=("Geheim",)))
    data = res.data
    assert list(data.columns[:3]) == ["respondent", "wave", "Regio"]
    for col in ("Naam", "E-mail", "Telefoon", "Contact", "Code", "Geheim", "Studentnummer"):
        assert col not in data.columns
    text = data.to_csv() + res.audit.to_csv()
    for value in raw[["Studentnummer", "Naam", "E-mail", "Telefoon", "Code"]].to_numpy().ravel():
        assert str(value) not in text
    removed = _reason(res.audit, "privacy").columns
    assert all(c in removed for c in ("Naam", "E-mail", "Telefoon", "Contact", "Code", "Geheim"))
    assert data["respondent"].iloc[0] == pseudonym("1000000", hmac_key)


def test_keeping_an_identifier_is_refused(inst: Instrument, hmac_key: bytes) -> None:
    raw = _raw([{"E-mail": "a@b.nl"}])
    with pytest.raises(PrivacyError, match=r"refusing to keep a column that identifies people "
                       r"\(column name\) \(column 'E-mail'\)"):
        _clean(raw, inst, hmac_key, keep=("Regio", "E-mail"))
    with pytest.raises(PrivacyError, match="column 'Studentnummer'"):
        _clean(raw, inst, hmac_key, keep=("Studentnummer",))
    kept = _clean(raw, inst, hmac_key, keep=("Regio",))
    assert "Regio" in kept.data.columns


def test_find_identifiers_skips_items() -> None:
    frame = pd.DataFrame({"Vraag 1": ["1234567"], "Naam": ["X"]})
    found = find_identifiers(frame, skip=["Vraag 1"], listed=[])
    assert [f.column for f in found] == ["Naam"]


# --------------------------------------------------------------------------- ICCAS
def test_iccas_retrospective_layout(hmac_key: bytes) -> None:
    iccas = load_instrument("ICCAS")
    pre = {"Studentnummer": "1", "Meting": "voormeting", **{f"Nu_{k}": "3" for k in range(1, 21)}}
    pre["Nu_2"] = "4"
    post = {"Studentnummer": "1", "Meting": "nameting", **{f"Nu_{k}": "6" for k in range(1, 21)},
            **{f"Voor_{k}": "2" for k in range(1, 21)}, "Item_21": "Veel beter nu"}
    post["Nu_1"], post["Nu_2"], post["Voor_1"], post["Voor_3"] = "n.v.t.", "5", "3", "n.v.t."
    raw = pd.DataFrame([pre, post])
    columns = {**item_columns("Nu_{n}", iccas), **item_columns("Voor_{n}", iccas,
                                                                 suffix="_before")}
    columns = {k: v for k, v in columns.items() if k in raw.columns}
    columns["Item_21"] = "q21"
    res = clean(raw, iccas, respondent="Studentnummer", wave="Meting", columns=columns,
                key=hmac_key)
    data = res.data.set_index("wave")
    assert data.loc["post", "q21"] == 7.0  # reversed: 1 (much better now) -> 7
    assert data.loc["post", "total"] == pytest.approx(113 / 19) and data.loc["pre", "total"] == pytest.approx(61 / 20)
    assert data.loc["post", "total_before"] == pytest.approx((3 + 2 * 18) / 19)
    assert np.isnan(data.loc["pre", "total_before"]) and "q21_before" not in data
    assert data["matched"].all()
    assert _reason(res.audit, "recode", "N/A").cells_changed == 2
    not_asked = _reason(res.audit, "recode", "not asked")
    assert not_asked.cells_changed == 21  # Voor_1..20 and Item_21 in the true pretest
    assert _reason(res.audit, "recode", "missing answer").cells_changed == 0
    assert _reason(res.audit, "waves", "retrospective").rows_flagged == 0


def test_schema_refuses_out_of_scale_and_bad_pseudonyms(inst: Instrument) -> None:
    from ipo_research.cleaning.schema import build_schema, validate

    good = pd.DataFrame({"respondent": ["a" * 64], "wave": ["pre"], "q1": [1.0], "q2": [5.0],
                         "q3": [np.nan], "q4": [3.0], "A": [3.0], "B": [3.0], "total": [3.0],
                         "matched": [True]})
    schema = build_schema(inst, waves=["pre", "post"])
    validate(good, schema)
    with pytest.raises(SchemaError, match="within 1-5"):
        validate(good.assign(q2=6.0), schema, file="x")
    with pytest.raises(SchemaError, match="respondent str_matches"):
        validate(good.assign(respondent="1234567"), schema)
    with pytest.raises(SchemaError, match="wave isin"):
        validate(good.assign(wave="later"), schema)
    with pytest.raises(SchemaError, match="Naam"):
        validate(good.assign(Naam="Jan"), schema)


# --------------------------------------------------------------------------- fast paths
def _parsed_one_by_one(col: pd.Series, recoder: Recoder) -> tuple[np.ndarray, np.ndarray, int]:
    parsed = [recoder.parse(v) if not pd.isna(v) else (np.nan, 1, 0) for v in col.tolist()]
    return (np.array([p[0] for p in parsed], dtype=float),
            np.array([p[1] for p in parsed], dtype=np.int8), sum(p[2] == 1 for p in parsed))


@pytest.mark.parametrize("digit_labels", [False, True])
def test_recode_arrow_fast_path_equals_parsing_each_answer(inst: Instrument,
                                                          digit_labels: bool) -> None:
    if digit_labels:  # a digit that is a label must be counted as a label: no fast path
        inst = Instrument("DIG", ITEMS, 1, 3, labels={"nl": ("1", "midden", "3")})
    pool = np.array(["1", "2", "3", "4", "5", "6", "0", "9", " ", "", "x", "4,0", " 3 ",
                     "Mee eens", "mee  EENS", "n.v.t.", "10", "midden", "é", None], dtype=object)
    rng = np.random.default_rng(3)
    for size in (0, 1, 7, 300):
        col = pd.Series(rng.choice(pool, size), dtype="str")
        # Arrow chunks that start at an offset inside their buffers
        col = pd.concat([col, col.iloc[::-1]]).iloc[size // 3 :].reset_index(drop=True)
        rec = recode_column(col, Recoder(inst))
        values, classes, labels = _parsed_one_by_one(col, Recoder(inst))
        np.testing.assert_array_equal(rec.values, values)
        np.testing.assert_array_equal(rec.classes, classes)
        assert rec.labels == labels


def test_duplicate_losers_equal_sorting_rule() -> None:
    from ipo_research.cleaning.core import _duplicate_losers

    rng = np.random.default_rng(4)
    n = 400
    pair = rng.integers(0, 60, n)
    stamps = rng.integers(0, 5, n).astype(np.int64)
    stamps[rng.random(n) < 0.2] = np.iinfo(np.int64).min  # missing times
    complete = rng.random(n) < 0.7
    rows = np.flatnonzero(rng.random(n) < 0.9)
    for first in (False, True):
        for comp in (complete, None):
            got = _duplicate_losers(rows, pair, stamps, comp, first=first, n_rows=n)
            frame = pd.DataFrame({"pair": pair, "complete": True if comp is None else comp,
                                  "stamp": stamps, "pos": np.arange(n)}).iloc[rows]
            order = frame.sort_values(["complete", "stamp", "pos"],
                                      ascending=[False, first, first], kind="stable")
            want = np.zeros(n, dtype=bool)
            want[order.index[order.duplicated(["pair"], keep="first")]] = True
            np.testing.assert_array_equal(got, want)


def test_submission_times_equal_pandas_formats() -> None:
    from ipo_research.cleaning.core import _TIME_FORMATS, _parse_timestamp

    values = pd.Series(["01-09-2023 10:00", "1-9-2023 10:00", "31-02-2024 10:00",
                        "2023-09-01 10:00:00", "29-02-2024 23:59", " 01-09-2023 10:00",
                        "01-09-2023 10:00:30", "x", None, "", "05/09/2023 10:00",
                        "2024-01-01 00:00", "01-09-2023  10:00"] * 2, dtype="str")
    stamps = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    for fmt in _TIME_FORMATS:
        todo = stamps.isna()
        stamps[todo] = pd.to_datetime(values[todo], format=fmt, errors="coerce")
    todo = stamps.isna() & values.notna()
    stamps[todo] = pd.to_datetime(values[todo], dayfirst=True, format="mixed", errors="coerce")
    want = stamps.to_numpy(dtype="datetime64[ns]").astype("int64")
    want[stamps.isna().to_numpy()] = np.iinfo(np.int64).min
    np.testing.assert_array_equal(_parse_timestamp(values), want)
    assert (want[:2] > np.iinfo(np.int64).min).all()  # both spellings of the first format


def test_schema_fast_proofs_and_full_checks(inst: Instrument) -> None:
    from ipo_research.cleaning.schema import _hex64_all, _rows_unique, build_schema, validate

    good = pd.DataFrame({"respondent": pd.Series(["a" * 64, "b" * 64], dtype="str"),
                         "wave": pd.Series(["pre", "pre"], dtype="str"), "q1": [1.0, 2.0],
                         "q2": [5.0, 5.0], "q3": [np.nan, 1.0], "q4": [3.0, 3.0],
                         "A": [3.0, 3.0], "B": [3.0, 2.0], "total": [3.0, 2.5],
                         "matched": [True, True]})
    assert _hex64_all(good["respondent"]) and _rows_unique(good, ["respondent", "wave"])
    upper = good.assign(respondent=pd.Series(["A" * 64, "b" * 64], dtype="str"))
    assert not _hex64_all(upper["respondent"])
    twice = good.assign(respondent=pd.Series(["a" * 64] * 2, dtype="str"))
    assert not _rows_unique(twice, ["respondent", "wave"])
    assert _rows_unique(twice.assign(wave=pd.Series(["pre", "post"], dtype="str")),
                        ["respondent", "wave"])
    schema = build_schema(inst, waves=["pre", "post"])
    validate(good, schema)
    with pytest.raises(SchemaError, match="respondent str_matches"):
        validate(upper, schema)
    with pytest.raises(SchemaError, match="respondent multiple_fields_uniqueness"):
        validate(twice, schema)


def test_recode_in_threads_equals_one_thread(inst: Instrument,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from ipo_research.cleaning import recode

    pool = np.array(["1", "2", "5", "4,0", "Mee eens", "6", "x", "", None], dtype=object)
    rng = np.random.default_rng(8)
    frame = pd.DataFrame({f"Vraag {i}": pd.Series(rng.choice(pool, 500), dtype="str")
                          for i in range(1, 5)})
    cols = {f"q{i}": f"Vraag {i}" for i in range(1, 5)}
    serial = recode.recode_block(frame, cols, inst)
    monkeypatch.setattr(recode, "PARALLEL_MIN_CELLS", 1)
    threaded = recode.recode_block(frame, cols, inst)
    np.testing.assert_array_equal(threaded.values, serial.values)
    np.testing.assert_array_equal(threaded.classes, serial.classes)
    np.testing.assert_array_equal(threaded.counts, serial.counts)
    np.testing.assert_array_equal(threaded.answered(), ~np.isnan(serial.values))
    with pytest.raises(CleaningError, match="Vraag 1"):  # the first column with text
        recode.recode_block(frame, cols, inst, strict=True)


@pytest.mark.parametrize("low", [1, -2])
def test_group_scores_equal_mean_of_answered_items(low: int) -> None:
    from ipo_research.cleaning.core import _group_score, _group_sums

    rng = np.random.default_rng(9)
    values = np.asfortranarray(rng.integers(low, low + 5, (400, 6)).astype(float))
    values[rng.random(values.shape) < 0.25] = np.nan
    answered = ~np.isnan(values)
    cols = [0, 2, 3, 5]
    sums, counts = _group_sums(values, answered, cols, low)
    score = _group_score(sums, counts, width=5, min_answered=0.75)  # one item has no column
    frame = pd.DataFrame(values[:, cols])
    want = frame.mean(axis=1).where(frame.notna().sum(axis=1) >= 4)
    np.testing.assert_allclose(score, want.to_numpy(), rtol=0, atol=1e-12)
    assert np.isnan(score).any() and not np.isnan(score).all()


def test_canonical_times_equal_arrow_round_trip() -> None:
    import pyarrow as pa
    import pyarrow.compute as pc

    from ipo_research.cleaning.core import _TIME_FORMATS, _canonical_stamps

    rng = np.random.default_rng(10)
    texts = [f"{rng.integers(0, 33):02d}-{rng.integers(0, 14):02d}-{rng.choice([1999, 2024])}"
             f" {rng.integers(0, 26):02d}:{rng.integers(0, 62):02d}" for _ in range(3000)]
    texts += ["1-9-2023 10:00", "01-09-2023  10:00", "29-02-2024 23:59", "29-02-2023 23:59",
              " 01-09-2023 10:0", "01-09-2023 10:00:00", "", None, "x" * 16]
    values = pd.Series(texts, dtype="str")
    fmt = _TIME_FORMATS[0]
    strings = pa.array(texts, type=pa.large_string())
    parsed = pc.strptime(strings, format=fmt, unit="ns", error_is_null=True)
    same = pc.fill_null(pc.equal(pc.strftime(parsed, format=fmt), strings), False)
    want = pc.if_else(same, parsed, pa.scalar(None, type=parsed.type)).to_numpy(
        zero_copy_only=False).astype("datetime64[ns]")
    got = _canonical_stamps(values)
    np.testing.assert_array_equal(got, want)
    assert 500 < (~np.isnat(got)).sum() < len(texts)


def test_kept_rows_and_cached_schema(inst: Instrument) -> None:
    from ipo_research.cleaning.core import _kept_rows
    from ipo_research.cleaning.schema import build_schema, schema_for

    alive = np.array([True, False, True, True])
    idx = np.flatnonzero(alive)
    for column in (pd.Series(["a", None, "c", "d"], dtype="str"), pd.Series([1, 2, 3, 4]),
                   pd.Series(["a", 2, None, "d"], dtype=object)):
        want = column.iloc[idx].reset_index(drop=True)
        pd.testing.assert_series_equal(_kept_rows(column, idx, alive), want, check_names=False)
    cached = schema_for(inst, context=["Regio"], waves=["pre", "post"])
    assert schema_for(inst, context=["Regio"], waves=["pre", "post"]) is cached
    fresh = build_schema(inst, context=["Regio"], waves=["pre", "post"])
    assert list(cached.columns) == list(fresh.columns) and cached.name == fresh.name
    assert schema_for(inst, waves=["pre"]) is not cached


def test_schema_validation_with_proofs_in_a_thread_reports_the_same(
        inst: Instrument, monkeypatch: pytest.MonkeyPatch) -> None:
    from ipo_research.cleaning import schema as schema_module
    from ipo_research.cleaning.schema import build_schema, validate

    n = 3_000
    rng = np.random.default_rng(11)
    ids = [f"{i:064x}" for i in rng.permutation(10 * n)[:n]]
    good = pd.DataFrame({"respondent": pd.Series(ids, dtype="str"),
                         "wave": pd.Series(["pre"] * n, dtype="str"),
                         **{q: rng.integers(1, 6, n).astype(float) for q in ITEMS},
                         "A": 3.0, "B": 3.0, "total": 3.0, "matched": True})
    schema = build_schema(inst, waves=["pre", "post"])
    bad = {
        "within 1-5": good.assign(q2=6.0),
        "respondent str_matches": good.assign(
            respondent=pd.Series(["A" * 64, *ids[1:]], dtype="str")),
        "multiple_fields_uniqueness": good.assign(
            respondent=pd.Series([ids[1], *ids[1:]], dtype="str")),
    }
    messages = {}
    for parallel in (True, False):
        monkeypatch.setattr(schema_module, "PARALLEL_MIN_ROWS", 1 if parallel else 10 * n)
        validate(good, schema)
        for what, frame in bad.items():
            with pytest.raises(SchemaError, match=what) as caught:
                validate(frame, schema)
            messages[what, parallel] = str(caught.value)
    for what in bad:
        assert messages[what, True] == messages[what, False]


def test_submission_times_outside_pandas_range_count_as_missing(inst: Instrument,
                                                               hmac_key: bytes) -> None:
    from ipo_research.cleaning.core import _parse_timestamp

    missing = np.iinfo(np.int64).min
    text = pd.Series(["01-01-2300 10:00", "01-09-2023 10:00", "2300-01-01 10:00:00",
                      "01-01-1600 00:00"], dtype="str")
    got = _parse_timestamp(text)
    assert got[[0, 2, 3]].tolist() == [missing] * 3 and got[1] > missing
    times = pd.Series(pd.to_datetime(["2300-01-01", "2023-09-01"]).astype("datetime64[us]"))
    assert _parse_timestamp(times)[0] == missing
    # a duplicate with an impossible time loses to one with a real time (no crash)
    raw = _raw([{"Einddatum": "01-01-2300 10:00", "Vraag 1": "1"},
                {"Einddatum": "01-09-2023 10:00", "Vraag 1": "5"}])
    res = _clean(raw, inst, hmac_key, timestamp="Einddatum", straightlining="off")
    assert len(res.data) == 1 and res.data["q1"].iloc[0] == 5.0
