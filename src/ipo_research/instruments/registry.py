"""Instrument registry: build, validate and serialise :class:`Instrument` definitions.

Built-in definitions are YAML files shipped as package data in
``ipo_research/instruments/definitions/``; users write their own in the same format
(see ``docs/instruments.md``, section "Instrument YAML format").
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping, Sequence
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from ipo_research.errors import InstrumentError
from ipo_research.instruments.model import Instrument

__all__ = [
    "KIRKPATRICK_LEVELS",
    "available_instruments",
    "instrument_from_mapping",
    "instrument_to_mapping",
    "instrument_to_yaml",
    "load_instrument",
]

#: Barr's modified Kirkpatrick levels.
KIRKPATRICK_LEVELS: tuple[str, ...] = ("1", "2a", "2b", "3", "4a", "4b")

_TOP_KEYS: tuple[str, ...] = (
    "name", "description", "citation", "kirkpatrick", "scale", "items", "reverse",
    "subscales", "total", "min_answered", "scoring", "not_scored", "na_labels",
    "retrospective", "item_labels", "notes", "unverified", "variants",
)
_REQUIRED_KEYS: tuple[str, ...] = ("name", "scale", "items")
_SCALE_KEYS: tuple[str, ...] = ("min", "max", "labels")
_RETRO_KEYS: tuple[str, ...] = ("before", "now")
_SCORING_RULES: tuple[str, ...] = ("mean",)
_VARIANT_FORBIDDEN: tuple[str, ...] = ("name", "variants")
_DEFINITIONS = "definitions"


# --------------------------------------------------------------------------- helpers
def _fail(what: str, source: str, key: str | None, hint: str | None = None) -> InstrumentError:
    context = {"key": key} if key is not None else {}
    return InstrumentError(what, file=source, hint=hint, context=context)


def _suggest(word: str, valid: Sequence[str]) -> str | None:
    folded = {v.casefold(): v for v in valid}
    close = difflib.get_close_matches(word.casefold(), list(folded), n=1, cutoff=0.6)
    return folded[close[0]] if close else None


def _check_keys(data: Mapping[str, Any], valid: Sequence[str], source: str, prefix: str) -> None:
    for key in data:
        if not isinstance(key, str) or key not in valid:
            full = f"{prefix}{key}"
            close = _suggest(str(key), valid)
            hint = f"did you mean '{prefix}{close}'?" if close else None
            allowed = ", ".join(valid)
            hint = f"{hint + ' ' if hint else ''}valid keys here: {allowed}"
            raise _fail(f"unknown key '{full}' in instrument definition", source, full, hint)


def _str_list(value: Any, source: str, key: str) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise _fail(
            f"'{key}' must be a list of names, got {type(value).__name__}", source, key,
            f"write '{key}: [q1, q2]'",
        )
    out: list[str] = []
    for element in value:
        if isinstance(element, bool) or not isinstance(element, str | int):
            raise _fail(
                f"'{key}' holds {element!r}, which is not a name", source, key,
                "item names are text such as q1",
            )
        text = str(element).strip()
        if not text:
            raise _fail(f"'{key}' holds an empty name", source, key,
                        "remove the empty entry (a stray comma or '-' in the list)")
        out.append(text)
    return tuple(out)


def _no_duplicates(names: Sequence[str], source: str, key: str) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise _fail(f"duplicate item '{name}' in '{key}'", source, key,
                        "list every item once")
        seen.add(name)


def _known_items(names: Sequence[str], items: Sequence[str], source: str, key: str) -> None:
    known = set(items)
    for name in names:
        if name not in known:
            close = _suggest(name, items)
            hint = f"did you mean '{close}'? " if close else ""
            raise _fail(
                f"unknown item '{name}' in '{key}' (not listed in 'items')", source, key,
                f"{hint}add it to 'items' or correct the name",
            )


def _label_lists(
    value: Any, n_points: int, source: str, key: str
) -> dict[str, tuple[str, ...]]:
    if not isinstance(value, Mapping):
        raise _fail(f"'{key}' must map a language code to a list of labels", source, key,
                    f"write '{key}: {{nl: [...], en: [...]}}'")
    out: dict[str, tuple[str, ...]] = {}
    for lang, labels in value.items():
        sub = f"{key}.{lang}"
        if not isinstance(lang, str) or not lang:
            raise _fail(f"'{key}' has a language code {lang!r} that is not text", source, key,
                        f"use a language code such as nl or en: '{key}: {{nl: [...]}}'")
        names = _str_list(labels, source, sub)
        if len(names) != n_points:
            raise _fail(
                f"'{sub}' has {len(names)} labels but the scale has {n_points} points",
                source, sub, "give one label per response option, from min to max",
            )
        folded = [n.casefold() for n in names]
        if len(set(folded)) != len(folded):
            raise _fail(f"'{sub}' repeats a label", source, sub, "labels must be distinct")
        out[lang] = names
    return out


def _integer(value: Any, source: str, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or (
        isinstance(value, float) and not value.is_integer()
    ):
        raise _fail(f"'{key}' must be a whole number, got {value!r}", source, key,
                    "write a number without quotes, e.g. 'scale: {min: 1, max: 5}'")
    return int(value)


def _optional_text(data: Mapping[str, Any], key: str, source: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise _fail(f"'{key}' must be text, got {type(value).__name__}", source, key,
                    f"write it on one line, in quotes when it holds ':' ({key}: \"...\")")
    text = str(value).strip()
    return text or None


# --------------------------------------------------------------------------- build
def instrument_from_mapping(data: Mapping[str, Any], *, source: str) -> Instrument:
    """Build and validate an :class:`Instrument` from a parsed YAML mapping.

    Parameters
    ----------
    data
        The definition (see "Instrument YAML format" in ``docs/instruments.md``).  Variants
        under ``variants`` are validated too, but the base definition is returned;
        :func:`load_instrument` selects a variant.
    source
        Where the mapping came from (file name); named in every error.

    Returns
    -------
    Instrument

    Raises
    ------
    InstrumentError
        When a key is unknown (the closest valid key is suggested), a required key is
        missing, ``scale.min >= scale.max``, an item is listed twice, a subscale,
        ``reverse`` or ``not_scored`` names an item not in ``items``, a label list does not
        have one label per scale point, ``min_answered`` is outside (0, 1], or a value has
        the wrong type.  The message names the key and ``source``.

    Examples
    --------
    >>> inst = instrument_from_mapping(
    ...     {"name": "MYSCALE", "scale": {"min": 1, "max": 5}, "items": ["q1", "q2", "q3", "q4"],
    ...      "reverse": ["q3"], "subscales": {"A": ["q1", "q2"], "B": ["q3", "q4"]}},
    ...     source="example")
    >>> inst.reverse, inst.n_points
    (('q3',), 5)
    """
    if not isinstance(data, Mapping):
        raise _fail(
            f"an instrument definition must be a mapping of keys, got {type(data).__name__}",
            source, None, "start the file with 'name: MYSCALE'",
        )
    _check_keys(data, _TOP_KEYS, source, "")
    for key in _REQUIRED_KEYS:
        if key not in data or data[key] is None:
            raise _fail(f"required key '{key}' is missing", source, key,
                        "an instrument needs at least 'name', 'scale' and 'items'")

    name = _optional_text(data, "name", source)
    if name is None:
        raise _fail("'name' is empty", source, "name",
                    "give the instrument a name, e.g. 'name: MYSCALE'")

    # scale
    scale = data["scale"]
    if not isinstance(scale, Mapping):
        raise _fail("'scale' must be a mapping with 'min' and 'max'", source, "scale",
                    "write 'scale: {min: 1, max: 5}'")
    _check_keys(scale, _SCALE_KEYS, source, "scale.")
    for key in ("min", "max"):
        if key not in scale:
            raise _fail(f"required key 'scale.{key}' is missing", source, f"scale.{key}",
                        "write 'scale: {min: 1, max: 5}'")
    smin = _integer(scale["min"], source, "scale.min")
    smax = _integer(scale["max"], source, "scale.max")
    if smin >= smax:
        raise _fail(f"'scale.min' ({smin}) must be smaller than 'scale.max' ({smax})",
                    source, "scale.min", "for a 1-5 Likert scale write {min: 1, max: 5}")
    n_points = smax - smin + 1
    labels = _label_lists(scale.get("labels") or {}, n_points, source, "scale.labels")

    # items
    items = _str_list(data["items"], source, "items")
    if not items:
        raise _fail("'items' is empty", source, "items", "list at least one item")
    _no_duplicates(items, source, "items")

    reverse = _str_list(data.get("reverse") or [], source, "reverse")
    _no_duplicates(reverse, source, "reverse")
    _known_items(reverse, items, source, "reverse")

    not_scored = _str_list(data.get("not_scored") or [], source, "not_scored")
    _no_duplicates(not_scored, source, "not_scored")
    _known_items(not_scored, items, source, "not_scored")

    raw_subscales = data.get("subscales") or {}
    if not isinstance(raw_subscales, Mapping):
        raise _fail("'subscales' must map a subscale name to a list of items", source,
                    "subscales", "write 'subscales: {A: [q1, q2]}'")
    subscales: dict[str, tuple[str, ...]] = {}
    for sub_name, sub_items in raw_subscales.items():
        key = f"subscales.{sub_name}"
        if not isinstance(sub_name, str) or not sub_name.strip():
            raise _fail(f"subscale name {sub_name!r} is not text", source, "subscales",
                        "name each subscale with text, e.g. 'subscales: {Teamwork: [q1, q2]}'")
        members = _str_list(sub_items, source, key)
        if not members:
            raise _fail(f"subscale '{sub_name}' has no items", source, key,
                        f"list its items, e.g. '{key}: [q1, q2]', or remove the subscale")
        _no_duplicates(members, source, key)
        _known_items(members, items, source, key)
        unscored = [m for m in members if m in not_scored]
        if unscored:
            raise _fail(f"subscale '{sub_name}' contains '{unscored[0]}', which is in "
                        "'not_scored'", source, key, "remove it from the subscale or from not_scored")
        if sub_name in items:
            raise _fail(f"subscale '{sub_name}' has the same name as an item", source, key,
                        "score columns and item columns must have different names")
        subscales[sub_name] = members

    # total
    total: str | None = "total"
    if "total" in data:
        raw_total = data["total"]
        if raw_total is None or raw_total is False:
            total = None
        elif isinstance(raw_total, str) and raw_total.strip():
            total = raw_total.strip()
        else:
            raise _fail(f"'total' must be a column name or null, got {raw_total!r}", source,
                        "total", "write 'total: total' or 'total: null' for no total score")
    if total is not None and (total in items or total in subscales):
        raise _fail(f"'total' column '{total}' clashes with an item or subscale name", source,
                    "total", "choose another name")

    # scoring rules
    min_answered = data.get("min_answered", 0.75)
    if isinstance(min_answered, bool) or not isinstance(min_answered, int | float) or not (
        math.isfinite(min_answered) and 0 < min_answered <= 1
    ):
        raise _fail(f"'min_answered' must be a share in (0, 1], got {min_answered!r}", source,
                    "min_answered", "0.75 means three quarters of a scale's items answered")
    scoring = data.get("scoring", "mean")
    if scoring not in _SCORING_RULES:
        raise _fail(f"'scoring' {scoring!r} is not supported", source, "scoring",
                    f"use one of: {', '.join(_SCORING_RULES)}")

    kirkpatrick: str | None = None
    if data.get("kirkpatrick") is not None:
        kirkpatrick = str(data["kirkpatrick"]).strip().lower()
        if kirkpatrick not in KIRKPATRICK_LEVELS:
            raise _fail(f"'kirkpatrick' level {data['kirkpatrick']!r} is not one of Barr's levels",
                        source, "kirkpatrick", f"use one of: {', '.join(KIRKPATRICK_LEVELS)}")

    # retrospective pairs
    retro_raw = data.get("retrospective") or {}
    if not isinstance(retro_raw, Mapping):
        raise _fail("'retrospective' must be a mapping {before: suffix, now: suffix}", source,
                    "retrospective", "write 'retrospective: {before: _before, now: _now}'")
    _check_keys(retro_raw, _RETRO_KEYS, source, "retrospective.")
    retrospective: dict[str, str] = {}
    if retro_raw:
        for key in _RETRO_KEYS:
            if key not in retro_raw or not isinstance(retro_raw[key], str):
                raise _fail(f"'retrospective.{key}' is missing or not text", source,
                            f"retrospective.{key}", "write 'retrospective: {before: _before, now: _now}'")
            retrospective[key] = retro_raw[key]
        if retrospective["before"] == retrospective["now"]:
            raise _fail("'retrospective.before' and 'retrospective.now' must differ", source,
                        "retrospective", "use two different suffixes, e.g. "
                        "'retrospective: {before: _before, now: _now}'")

    na_labels = _str_list(data.get("na_labels") or [], source, "na_labels")
    all_labels = {lab.casefold() for labs in labels.values() for lab in labs}
    for na in na_labels:
        if na.casefold() in all_labels:
            raise _fail(f"N/A label '{na}' is also a response label", source, "na_labels",
                        f"remove '{na}' from 'na_labels' or from 'scale.labels': an answer "
                        "cannot be both a scale point and 'not applicable'")

    item_labels_raw = data.get("item_labels") or {}
    if not isinstance(item_labels_raw, Mapping):
        raise _fail("'item_labels' must map an item to {language: [labels]}", source,
                    "item_labels", "write e.g. 'item_labels: {q21: {nl: [...], en: [...]}}'")
    item_labels: dict[str, dict[str, tuple[str, ...]]] = {}
    for item, per_lang in item_labels_raw.items():
        _known_items([str(item)], items, source, "item_labels")
        item_labels[str(item)] = _label_lists(per_lang, n_points, source, f"item_labels.{item}")

    unverified = _str_list(data.get("unverified") or [], source, "unverified")
    for key in unverified:
        root = key.split(".", 1)[0]
        if root not in _TOP_KEYS:
            close = _suggest(root, _TOP_KEYS)
            raise _fail(f"'unverified' names '{key}', which is not a key", source, "unverified",
                        (f"did you mean '{close}'? " if close else "")
                        + f"valid keys: {', '.join(_TOP_KEYS)}")

    if data.get("variants"):
        # Validate every variant now, so a broken variant is refused with its base.
        for mapping in list(_expand_variants(data, source).values())[1:]:
            instrument_from_mapping(mapping, source=source)

    return Instrument(
        name=name,
        items=items,
        scale_min=smin,
        scale_max=smax,
        reverse=reverse,
        subscales=subscales,
        labels=labels,
        min_answered=float(min_answered),
        scoring=str(scoring),
        total=total,
        retrospective=retrospective,
        not_scored=not_scored,
        na_labels=na_labels,
        kirkpatrick=kirkpatrick,
        citation=_optional_text(data, "citation", source),
        description=_optional_text(data, "description", source),
        item_labels=item_labels,
        notes=_optional_text(data, "notes", source),
        unverified=unverified,
        source=source,
    )


def _expand_variants(data: Mapping[str, Any], source: str) -> dict[str, dict[str, Any]]:
    """Return ``{full name: mapping}`` for the base definition and each of its variants.

    A variant ``R1719`` of ``RIPLS`` is named ``RIPLS-R1719``; its keys replace the base
    definition's keys of the same name (``scale`` is merged key by key).
    """
    if not isinstance(data, Mapping):
        raise _fail(
            f"an instrument definition must be a mapping of keys, got {type(data).__name__}",
            source, None, "start the file with 'name: MYSCALE'",
        )
    base = {k: v for k, v in data.items() if k != "variants"}
    out: dict[str, dict[str, Any]] = {str(base.get("name", "")): base}
    variants = data.get("variants") or {}
    if not isinstance(variants, Mapping):
        raise _fail("'variants' must map a variant name to the keys it changes", source,
                    "variants", "write 'variants: {R1719: {reverse: [...]}}'")
    for vname, changes in variants.items():
        key = f"variants.{vname}"
        if not isinstance(changes, Mapping):
            raise _fail(f"'{key}' must be a mapping of the keys it changes", source, key,
                        f"write e.g. '{key}: {{reverse: [q1, q2]}}'")
        allowed = tuple(k for k in _TOP_KEYS if k not in _VARIANT_FORBIDDEN)
        _check_keys(changes, allowed, source, f"{key}.")
        merged = dict(base)
        for k, v in changes.items():
            if k == "scale" and isinstance(v, Mapping) and isinstance(base.get("scale"), Mapping):
                merged["scale"] = {**base["scale"], **v}
            else:
                merged[k] = v
        merged["name"] = f"{base.get('name')}-{vname}"
        out[merged["name"]] = merged
    return out


# --------------------------------------------------------------------------- registry
@lru_cache(maxsize=1)
def _builtin_index() -> dict[str, tuple[str, dict[str, Any]]]:
    """``{NAME.casefold(): (file name, mapping)}`` for every built-in definition and variant."""
    from ipo_research.io import parse_yaml  # io is above instruments in the pipeline

    index: dict[str, tuple[str, dict[str, Any]]] = {}
    folder = resources.files("ipo_research.instruments").joinpath(_DEFINITIONS)
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith((".yaml", ".yml")):
            continue
        source = f"built-in:{entry.name}"
        data = parse_yaml(entry.read_text(encoding="utf-8"), source=source)
        for full_name, mapping in _expand_variants(data, source).items():
            index[full_name.casefold()] = (source, mapping)
    return index


def available_instruments() -> list[str]:
    """Names of the built-in instruments and their variants, sorted.

    Examples
    --------
    >>> "RIPLS" in available_instruments() and "RIPLS-R1719" in available_instruments()
    True
    """
    return sorted(str(mapping["name"]) for _, mapping in _builtin_index().values())


def _looks_like_path(text: str) -> bool:
    return text.endswith((".yaml", ".yml")) or "/" in text or "\\" in text


def load_instrument(name_or_path: str | Path, *, variant: str | None = None) -> Instrument:
    """Load a built-in instrument by name, or a user definition from a YAML file.

    Parameters
    ----------
    name_or_path
        A built-in name (case-insensitive; see :func:`available_instruments`, e.g.
        ``"RIPLS"``, ``"RIPLS-R1719"``, ``"ICCAS"``) or a path to a ``.yaml``/``.yml`` file
        in the same format.
    variant
        Name of a variant declared under ``variants:`` (``load_instrument("RIPLS",
        variant="R1719")`` equals ``load_instrument("RIPLS-R1719")``).

    Returns
    -------
    Instrument
        A fresh object on every call.

    Raises
    ------
    InstrumentError
        Unknown name (the message lists the known ones), a file that does not exist or is not
        valid YAML, or an invalid definition (the message names the key and file).

    Examples
    --------
    >>> ripls = load_instrument("RIPLS")
    >>> len(ripls.items), ripls.reverse
    (19, ('q10', 'q11', 'q12'))
    >>> load_instrument("ripls", variant="R1719").reverse[-3:]
    ('q17', 'q18', 'q19')
    """
    text = str(name_or_path)
    if isinstance(name_or_path, Path) or _looks_like_path(text) or Path(text).is_file():
        return _load_file(Path(text), variant)
    key = text.strip() if variant is None else f"{text.strip()}-{variant}"
    index = _builtin_index()
    if key.casefold() not in index:
        known = available_instruments()
        close = _suggest(key, known)
        hint = f"did you mean {close!r}? " if close else ""
        raise InstrumentError(
            f"unknown instrument {key!r}",
            hint=f"{hint}known instruments: {', '.join(known)}; or give a path to a YAML file",
        )
    source, mapping = index[key.casefold()]
    return instrument_from_mapping(mapping, source=source)


def _load_file(path: Path, variant: str | None) -> Instrument:
    from ipo_research.errors import ReadError
    from ipo_research.io import read_yaml

    source = str(path)
    try:
        data = read_yaml(path)
    except ReadError as err:
        raise InstrumentError(err.what, file=source, row=err.row, hint=err.hint,
                              context=err.context) from err
    expanded = _expand_variants(data, source)
    base_name = next(iter(expanded))
    wanted = base_name if variant is None else f"{base_name}-{variant}"
    if wanted not in expanded:
        declared = [n.split("-", 1)[1] for n in expanded if n != base_name]
        raise _fail(f"variant {variant!r} is not declared", source, "variants",
                    f"declared variants: {', '.join(declared) or 'none'}")
    return instrument_from_mapping(expanded[wanted], source=source)


# --------------------------------------------------------------------------- serialise
def instrument_to_mapping(inst: Instrument) -> dict[str, Any]:
    """Return ``inst`` as a plain mapping in the YAML format (inverse of
    :func:`instrument_from_mapping`)."""
    scale: dict[str, Any] = {"min": inst.scale_min, "max": inst.scale_max}
    if inst.labels:
        scale["labels"] = {lang: list(labs) for lang, labs in inst.labels.items()}
    out: dict[str, Any] = {"name": inst.name}
    if inst.description:
        out["description"] = inst.description
    out["scale"] = scale
    out["items"] = list(inst.items)
    out["reverse"] = list(inst.reverse)
    out["subscales"] = {name: list(items) for name, items in inst.subscales.items()}
    out["total"] = inst.total
    out["min_answered"] = inst.min_answered
    out["scoring"] = inst.scoring
    if inst.not_scored:
        out["not_scored"] = list(inst.not_scored)
    if inst.na_labels:
        out["na_labels"] = list(inst.na_labels)
    if inst.retrospective:
        out["retrospective"] = dict(inst.retrospective)
    if inst.item_labels:
        out["item_labels"] = {
            item: {lang: list(labs) for lang, labs in per_lang.items()}
            for item, per_lang in inst.item_labels.items()
        }
    if inst.kirkpatrick:
        out["kirkpatrick"] = inst.kirkpatrick
    if inst.citation:
        out["citation"] = inst.citation
    if inst.notes:
        out["notes"] = inst.notes
    if inst.unverified:
        out["unverified"] = list(inst.unverified)
    return out


class _FlowListDumper(yaml.SafeDumper):
    """Dumper that writes lists of scalars on one line (``items: [q1, q2]``)."""


def _represent_list(dumper: yaml.SafeDumper, data: list[Any]) -> yaml.Node:
    flow = all(not isinstance(x, list | dict) for x in data)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)


_FlowListDumper.add_representer(list, _represent_list)


def instrument_to_yaml(inst: Instrument) -> str:
    """Serialise ``inst`` to YAML text in the documented format.

    ``instrument_from_mapping(yaml.safe_load(instrument_to_yaml(inst)), source=...)``
    equals ``inst``.  Useful as a starting point for an adapted user definition.

    Examples
    --------
    >>> print(instrument_to_yaml(load_instrument("EPIS")).splitlines()[0])
    name: EPIS
    """
    return yaml.dump(
        instrument_to_mapping(inst), Dumper=_FlowListDumper, sort_keys=False,
        allow_unicode=True, width=100, default_flow_style=False,
    )
