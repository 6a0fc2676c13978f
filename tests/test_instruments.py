"""Tests of ipo_research.instruments: built-in definitions, validation, YAML round trip."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from ipo_research.errors import InstrumentError
from ipo_research.instruments import (
    KIRKPATRICK_LEVELS,
    Instrument,
    available_instruments,
    instrument_from_mapping,
    instrument_to_yaml,
    load_instrument,
)

ROOT = Path(__file__).resolve().parents[1]

BUILT_INS = [
    "AITCS-II", "EPIS", "ICCAS", "IIC", "IPAS", "ISVS-21", "ISVS-9A", "ISVS-9B", "RIPLS",
    "RIPLS-R1719",
]


def q(*numbers: int) -> tuple[str, ...]:
    return tuple(f"q{i}" for i in numbers)


def _valid() -> dict[str, Any]:
    return {
        "name": "MYSCALE",
        "scale": {"min": 1, "max": 5,
                  "labels": {"en": ["SD", "D", "N", "A", "SA"]}},
        "items": ["q1", "q2", "q3", "q4"],
        "reverse": ["q3"],
        "subscales": {"A": ["q1", "q2"], "B": ["q3", "q4"]},
        "min_answered": 0.75,
    }


# --------------------------------------------------------------------------- built-ins
def test_available_instruments_lists_every_built_in() -> None:
    assert available_instruments() == BUILT_INS


@pytest.mark.parametrize("name", BUILT_INS)
def test_every_built_in_loads_and_is_complete(name: str) -> None:
    inst = load_instrument(name)
    assert isinstance(inst, Instrument)
    assert inst.name == name
    assert inst.scoring == "mean"
    assert 0 < inst.min_answered <= 1
    assert inst.kirkpatrick in KIRKPATRICK_LEVELS
    assert inst.citation and re.search(r"\(\d{4}\)", inst.citation)
    assert set(inst.labels) == {"nl", "en"}
    for labels in inst.labels.values():
        assert len(labels) == inst.n_points
    assert inst.source is not None and inst.source.startswith("built-in:")
    # every caveat is explained
    if inst.unverified:
        assert inst.notes


@pytest.mark.parametrize("name", BUILT_INS)
def test_built_ins_round_trip_through_yaml(name: str) -> None:
    inst = load_instrument(name)
    again = instrument_from_mapping(yaml.safe_load(instrument_to_yaml(inst)), source="rt")
    assert again == inst


def test_ripls_structure() -> None:
    ripls = load_instrument("RIPLS")
    assert ripls.items == q(*range(1, 20))
    assert (ripls.scale_min, ripls.scale_max) == (1, 5)
    assert ripls.reverse == q(10, 11, 12)
    assert dict(ripls.subscales) == {
        "teamwork_collaboration": q(*range(1, 10)),
        "negative_professional_identity": q(10, 11, 12),
        "positive_professional_identity": q(13, 14, 15, 16),
        "roles_responsibilities": q(17, 18, 19),
    }
    assert ripls.labels["nl"][0] == "Helemaal mee oneens"
    assert ripls.kirkpatrick == "2a"


def test_ripls_variant_reverses_17_to_19() -> None:
    variant = load_instrument("RIPLS-R1719")
    assert variant.reverse == q(10, 11, 12, 17, 18, 19)
    assert load_instrument("ripls", variant="R1719") == variant
    base = load_instrument("RIPLS")
    assert variant.subscales == base.subscales and variant.items == base.items


def test_iccas_structure() -> None:
    iccas = load_instrument("ICCAS")
    assert iccas.items == q(*range(1, 22))
    assert iccas.scored_items == q(*range(1, 21))
    assert iccas.reverse == ("q21",) and iccas.not_scored == ("q21",)
    assert (iccas.scale_min, iccas.scale_max) == (1, 7)
    assert dict(iccas.retrospective) == {"before": "_before", "now": ""}
    assert "n.v.t." in iccas.na_labels
    assert "subscales" in iccas.unverified and "NOT verified" in (iccas.notes or "")
    assert [len(v) for v in iccas.subscales.values()] == [5, 3, 4, 3, 3, 2]
    assert iccas.kirkpatrick == "2b"
    # item 21 has its own labels: 1 = much better now
    assert iccas.item_scale_labels("q21", "en")[0] == "Much better now"
    assert iccas.item_scale_labels("q1", "en")[0] == "Strongly disagree"


@pytest.mark.parametrize(
    ("name", "n_items", "sizes", "scale"),
    [
        ("IPAS", 27, [9, 8, 3, 4, 3], (1, 5)),
        ("ISVS-21", 21, [], (1, 7)),
        ("ISVS-9A", 9, [], (1, 7)),
        ("ISVS-9B", 9, [], (1, 7)),
        ("EPIS", 12, [4, 4, 4], (1, 5)),
        ("AITCS-II", 23, [8, 8, 7], (1, 5)),
        ("IIC", 42, [], (1, 5)),
    ],
)
def test_other_built_ins_structure(
    name: str, n_items: int, sizes: list[int], scale: tuple[int, int]
) -> None:
    inst = load_instrument(name)
    assert len(inst.items) == n_items
    assert [len(v) for v in inst.subscales.values()] == sizes
    assert (inst.scale_min, inst.scale_max) == scale
    assert inst.total == "total"


def test_iic_direction_is_documented() -> None:
    iic = load_instrument("IIC")
    assert iic.labels["en"][0] == "Strongly agree"
    assert "lower" in (iic.description or "").lower()
    assert set(iic.unverified) == {"subscales", "reverse"}


def test_load_returns_fresh_objects() -> None:
    a, b = load_instrument("RIPLS"), load_instrument("RIPLS")
    assert a == b and a is not b
    a.subscales["teamwork_collaboration"] = ()  # type: ignore[index]
    assert load_instrument("RIPLS").subscales["teamwork_collaboration"] == q(*range(1, 10))


def test_label_codes_cover_both_languages() -> None:
    codes = load_instrument("RIPLS").label_codes()
    assert codes["helemaal mee oneens"] == 1 and codes["strongly agree"] == 5
    assert codes["neutraal"] == 3
    item21 = load_instrument("ICCAS").label_codes("q21")
    assert item21["veel beter nu"] == 1 and item21["much worse now"] == 7
    assert "n.v.t." not in item21


def test_subscales_of() -> None:
    ripls = load_instrument("RIPLS")
    assert ripls.subscales_of("q11") == ("negative_professional_identity",)
    assert load_instrument("ICCAS").subscales_of("q21") == ()


def test_unknown_name_lists_known_instruments() -> None:
    with pytest.raises(InstrumentError, match=r"unknown instrument 'RIPSL'.*did you mean 'RIPLS'"
                       r".*known instruments: AITCS-II, EPIS, ICCAS"):
        load_instrument("RIPSL")


def test_unknown_variant_of_built_in() -> None:
    with pytest.raises(InstrumentError, match=r"unknown instrument 'RIPLS-X'.*known instruments"):
        load_instrument("RIPLS", variant="X")


# --------------------------------------------------------------------------- user files
def test_user_yaml_file_loads(tmp_path: Path) -> None:
    path = tmp_path / "myscale.yaml"
    path.write_text(yaml.safe_dump(_valid()), encoding="utf-8")
    inst = load_instrument(path)
    assert inst.name == "MYSCALE" and inst.reverse == ("q3",)
    assert inst.source == str(path)
    assert load_instrument(str(path)) == inst


def test_user_yaml_variant(tmp_path: Path) -> None:
    data = _valid() | {"variants": {"STRICT": {"min_answered": 1.0, "scale": {"max": 5}}}}
    path = tmp_path / "myscale.yml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    strict = load_instrument(path, variant="STRICT")
    assert strict.name == "MYSCALE-STRICT" and strict.min_answered == 1.0
    assert strict.labels == load_instrument(path).labels  # scale merged key by key
    with pytest.raises(InstrumentError, match=r"variant 'LAX' is not declared.*declared variants: STRICT"):
        load_instrument(path, variant="LAX")


def test_docs_example_is_valid() -> None:
    text = (ROOT / "docs" / "instruments.md").read_text(encoding="utf-8")
    block = text.split("## Instrument YAML format", 1)[1].split("```yaml", 1)[1].split("```", 1)[0]
    data = yaml.safe_load(block)
    inst = instrument_from_mapping(data, source="docs")
    assert inst.not_scored == ("q5",) and inst.kirkpatrick == "2a"


def test_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(InstrumentError, match=r"file not found \(file .*nope\.yaml"):
        load_instrument(missing)


def test_invalid_yaml_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("name: X\nitems: [q1, q2\nscale: {min: 1}\n", encoding="utf-8")
    with pytest.raises(InstrumentError, match=r"not valid YAML.*broken\.yaml, row \d"):
        load_instrument(path)


def test_yaml_that_is_not_a_mapping(tmp_path: Path) -> None:
    path = tmp_path / "list.yaml"
    path.write_text("- q1\n- q2\n", encoding="utf-8")
    with pytest.raises(InstrumentError, match=r"must be a mapping of keys, got list.*list\.yaml"):
        load_instrument(path)


# --------------------------------------------------------------------------- refused definitions
def _mutate(path: str, value: Any) -> dict[str, Any]:
    data = copy.deepcopy(_valid())
    keys = path.split(".")
    target = data
    for key in keys[:-1]:
        target = target[key]
    if value is _DELETE:
        del target[keys[-1]]
    else:
        target[keys[-1]] = value
    return data


_DELETE = object()


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("subscales.A", ["q1", "q9"], r"unknown item 'q9' in 'subscales\.A'.*key subscales\.A"),
        ("reverse", ["q5"], r"unknown item 'q5' in 'reverse'.*key reverse"),
        ("reverse", ["Q3"], r"unknown item 'Q3' in 'reverse'.*did you mean 'q3'"),
        ("scale.min", 5, r"'scale\.min' \(5\) must be smaller than 'scale\.max' \(5\)"),
        ("scale.min", 7, r"'scale\.min' \(7\) must be smaller"),
        ("items", ["q1", "q2", "q2", "q4"], r"duplicate item 'q2' in 'items'.*key items"),
        ("reverse", ["q3", "q3"], r"duplicate item 'q3' in 'reverse'"),
        ("subscales.A", ["q1", "q1"], r"duplicate item 'q1' in 'subscales\.A'"),
        ("scale.labels", {"nl": ["a", "b", "c"]},
         r"'scale\.labels\.nl' has 3 labels but the scale has 5 points.*key scale\.labels\.nl"),
        ("scale.labels", {"en": ["a", "a", "b", "c", "d"]}, r"'scale\.labels\.en' repeats a label"),
        ("min_answered", 0, r"'min_answered' must be a share in \(0, 1\], got 0"),
        ("min_answered", 1.5, r"'min_answered' must be a share in \(0, 1\], got 1\.5"),
        ("min_answered", "most", r"'min_answered' must be a share"),
        ("subscale", {"A": ["q1"]}, r"unknown key 'subscale'.*did you mean 'subscales'\?"),
        ("reversed", ["q1"], r"unknown key 'reversed'.*did you mean 'reverse'\?"),
        ("scale.lables", {}, r"unknown key 'scale\.lables'.*did you mean 'scale\.labels'\?"),
        ("name", _DELETE, r"required key 'name' is missing.*key name"),
        ("items", _DELETE, r"required key 'items' is missing"),
        ("scale.max", _DELETE, r"required key 'scale\.max' is missing"),
        ("items", [], r"'items' is empty"),
        ("items", "q1 q2", r"'items' must be a list of names, got str"),
        ("scale.max", 4.5, r"'scale\.max' must be a whole number, got 4\.5"),
        ("scoring", "sum", r"'scoring' 'sum' is not supported.*use one of: mean"),
        ("kirkpatrick", "5", r"'kirkpatrick' level '5' is not one of Barr's levels.*1, 2a, 2b"),
        ("not_scored", ["q7"], r"unknown item 'q7' in 'not_scored'"),
        ("not_scored", ["q4"], r"subscale 'B' contains 'q4', which is in 'not_scored'"),
        ("subscales", {"q1": ["q2"]}, r"subscale 'q1' has the same name as an item"),
        ("subscales", {"A": []}, r"subscale 'A' has no items"),
        ("total", "A", r"'total' column 'A' clashes with an item or subscale name"),
        ("retrospective", {"before": "_x", "now": "_x"}, r"'retrospective\.before' and "
         r"'retrospective\.now' must differ"),
        ("retrospective", {"before": "_x"}, r"'retrospective\.now' is missing"),
        ("retrospective", {"before": "_x", "now": "", "then": "_y"},
         r"unknown key 'retrospective\.then'"),
        ("na_labels", ["sa"], r"N/A label 'sa' is also a response label"),
        ("item_labels", {"q9": {"en": ["a", "b", "c", "d", "e"]}}, r"unknown item 'q9' in 'item_labels'"),
        ("item_labels", {"q1": {"en": ["a", "b"]}}, r"'item_labels\.q1\.en' has 2 labels"),
        ("unverified", ["subscale"], r"'unverified' names 'subscale', which is not a key.*'subscales'"),
        ("variants", {"X": {"name": "Y"}}, r"unknown key 'variants\.X\.name'"),
    ],
)
def test_refused_definitions_name_the_key_and_file(
    tmp_path: Path, key: str, value: Any, message: str
) -> None:
    data = _mutate(key, value)
    with pytest.raises(InstrumentError, match=message):
        instrument_from_mapping(data, source="def.yaml")
    # the same definition in a file: the message names the file
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(InstrumentError, match=r"file .*bad\.yaml") as info:
        load_instrument(path)
    assert re.search(message, str(info.value))


def test_mapping_without_variants_key_allowed() -> None:
    inst = instrument_from_mapping(_valid(), source="x")
    assert inst.total == "total" and inst.min_answered == 0.75
    assert instrument_from_mapping(_mutate("total", None), source="x").total is None
