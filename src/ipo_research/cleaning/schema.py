"""The schema of cleaned data, built from the instrument (pandera).

The schema doubles as the data dictionary of ``data/processed/``: a pseudonymous
``respondent`` (64 hex digits), a ``wave``, one float column per item within the
theoretical range, one per score within the same range, boolean flags, and one row per
respondent and wave.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pandera.errors as pa_errors
import pandera.pandas as pa
import pyarrow as pa_arrow

from ipo_research.errors import SchemaError
from ipo_research.instruments.model import Instrument

PSEUDONYM_PATTERN = r"^[0-9a-f]{64}$"
_SLICE = 1 << 18


def score_columns(inst: Instrument) -> list[str]:
    """Names of the score columns: one per subscale, then the total (if any)."""
    names = list(inst.subscales)
    if inst.total is not None and inst.total not in names:
        names.append(inst.total)
    return names


def build_schema(
    inst: Instrument,
    *,
    context: Iterable[str] = (),
    retro_suffix: str | None = None,
    retro_items: Iterable[str] | None = None,
    flags: Iterable[str] = (),
    waves: Iterable[str] | None = None,
) -> pa.DataFrameSchema:
    """Return the pandera schema of cleaned data for ``inst``.

    Parameters
    ----------
    inst
        The instrument.
    context
        Context columns kept (any type, nullable).
    retro_suffix
        When given, retrospective item and score columns (``q1_before``...) are expected.
    retro_items
        Items with a retrospective column (default: all items).
    flags
        Boolean flag columns (``flag_speeder``...).
    waves
        Allowed wave names (default: any non-empty text).
    """
    return _make_schema(
        inst.name, tuple(inst.items), inst.scale_min, inst.scale_max,
        tuple(score_columns(inst)), tuple(context), retro_suffix,
        None if retro_items is None else tuple(retro_items), tuple(flags),
        None if waves is None else tuple(waves),
    )


def _make_schema(
    schema_name: str, items: tuple[str, ...], scale_min: int, scale_max: int,
    scores: tuple[str, ...], context: tuple[str, ...], retro_suffix: str | None,
    retro_items: tuple[str, ...] | None, flags: tuple[str, ...], waves: tuple[str, ...] | None,
) -> pa.DataFrameSchema:
    """The schema of :func:`build_schema`, from hashable parts (so it can be cached)."""
    lo, hi = float(scale_min), float(scale_max)
    numeric: list[str] = []
    columns: dict[str, pa.Column] = {
        "respondent": pa.Column(str, pa.Check.str_matches(PSEUDONYM_PATTERN), nullable=False),
        "wave": pa.Column(
            str,
            pa.Check.isin(sorted(set(waves))) if waves is not None else pa.Check.str_length(min_value=1),
            nullable=False,
        ),
    }
    for name in context:
        columns[name] = pa.Column(nullable=True, required=True)
    blocks = [("", items)]
    if retro_suffix is not None:
        blocks.append((retro_suffix, tuple(retro_items or items)))
    for suffix, group in blocks:
        for name in (*group, *scores):
            columns[name + suffix] = pa.Column(float, nullable=True)
            numeric.append(name + suffix)
    for flag in flags:
        columns[flag] = pa.Column(bool, nullable=False)
    columns["matched"] = pa.Column(bool, nullable=False)
    # one vectorised check over all item and score columns (a per-column check costs
    # pandera's overhead once per column, which dominates on a million rows)
    def _in_scale(frame: pd.DataFrame) -> pd.Series:
        ok = np.ones(len(frame), dtype=bool)
        with np.errstate(invalid="ignore"):
            for name in numeric:  # column by column: no 2-D copy of the data
                column = frame[name].to_numpy(dtype=float)
                ok &= ~((column < lo) | (column > hi))  # NaN compares False: passes
        return pd.Series(ok, index=frame.index)

    # ignore_na=False: missing values pass the check already, and pandera's ignore_na
    # would scan the whole frame for rows that are all missing
    in_scale = pa.Check(_in_scale, ignore_na=False, name=f"items and scores within {lo:g}-{hi:g}")
    return pa.DataFrameSchema(
        columns,
        checks=[in_scale],
        strict=True,
        unique=["respondent", "wave"],
        name=f"cleaned {schema_name}",
        coerce=False,
    )


#: :func:`_make_schema` for the last few instruments and options (see :func:`schema_for`).
_cached_schema = functools.lru_cache(maxsize=16)(_make_schema)


def _hex64_all(values: pd.Series) -> bool:
    """Whether every value is 64 lower-case hex digits (``PSEUDONYM_PATTERN``), from the
    Arrow buffers; ``False`` also when that cannot be decided this way."""
    dtype = values.dtype
    if not (isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow"):
        return False
    data = pa_arrow.chunked_array(pa_arrow.array(values.array))
    for chunk in data.chunks:
        if len(chunk) == 0:
            continue
        if chunk.null_count or not pa_arrow.types.is_large_string(chunk.type):
            return False
        offsets, raw = _offsets_and_bytes(chunk)
        if not (np.diff(offsets) == 64).all():
            return False
        raw = raw[offsets[0] : offsets[-1]]
        for start in range(0, raw.size, _SLICE):  # slices that stay in the CPU cache
            part = raw[start : start + _SLICE]
            # uint8 arithmetic wraps around: one comparison per range of characters
            if not (((part - np.uint8(48)) < 10) | ((part - np.uint8(97)) < 6)).all():
                return False
    return True


def schema_for(
    inst: Instrument,
    *,
    context: Iterable[str] = (),
    retro_suffix: str | None = None,
    retro_items: Iterable[str] | None = None,
    flags: Iterable[str] = (),
    waves: Iterable[str] | None = None,
) -> pa.DataFrameSchema:
    """:func:`build_schema`, remembered for the last few instruments and options.

    Building a pandera schema deep-copies each of its columns, which costs more than
    validating a small export; :func:`~ipo_research.cleaning.clean` asks for the same
    schema for every export of a project.  The schema returned is shared: do not modify it.
    """
    return _cached_schema(
        inst.name, tuple(inst.items), inst.scale_min, inst.scale_max,
        tuple(score_columns(inst)), tuple(context), retro_suffix,
        None if retro_items is None else tuple(retro_items), tuple(flags),
        None if waves is None else tuple(waves),
    )


def _single_chunk(values: pd.Series) -> pa_arrow.LargeStringArray | None:
    """The Arrow large-string array behind a pandas string column without missing values,
    when it is one chunk (a column built in one piece, such as the pseudonyms), else
    ``None``; never a copy."""
    dtype = values.dtype
    if not (isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow"):
        return None
    data = pa_arrow.chunked_array(pa_arrow.array(values.array))
    if data.num_chunks != 1 or data.null_count or not pa_arrow.types.is_large_string(data.type):
        return None
    chunk: pa_arrow.LargeStringArray = data.chunk(0)
    return chunk


def _offsets_and_bytes(chunk: pa_arrow.LargeStringArray) -> tuple[np.ndarray, np.ndarray]:
    buffers = chunk.buffers()
    offsets = np.frombuffer(buffers[1], dtype=np.int64, count=chunk.offset + len(chunk) + 1)
    offsets = offsets[chunk.offset :]
    raw = np.frombuffer(buffers[2], dtype=np.uint8) if buffers[2] is not None else np.zeros(
        0, dtype=np.uint8)
    return offsets, raw


def _fixed_width_words(values: pd.Series, width: int) -> np.ndarray | None:
    """The bytes of a string column whose values all have ``width`` bytes, as ``uint64``
    words (one row per value, a view of the Arrow buffer), or ``None``."""
    if width % 8:
        return None
    if len(values) == 0:
        return np.zeros((0, width // 8), dtype=np.uint64)
    chunk = _single_chunk(values)
    if chunk is None:
        return None
    offsets, raw = _offsets_and_bytes(chunk)
    if offsets[0] % 8 or offsets[-1] - offsets[0] != width * len(chunk):
        return None
    if not (np.diff(offsets) == width).all():
        return None
    raw = raw[offsets[0] : offsets[-1]]
    return raw.view(np.uint64).reshape(len(chunk), width // 8)


def _string_signature(values: pd.Series) -> np.ndarray | None:
    """Length, first and last byte of every value of a string column without missing
    values (equal strings have equal signatures), as ``uint64``; else ``None``."""
    chunk = _single_chunk(values) if len(values) else None
    if chunk is None:
        return None
    offsets, raw = _offsets_and_bytes(chunk)
    if raw.size == 0:
        return None
    lengths = np.diff(offsets)
    if not (lengths > 0).all():
        return None
    sig = lengths.view(np.uint64)
    np.left_shift(sig, np.uint64(16), out=sig)
    sig |= raw[offsets[:-1]] << np.uint64(8)
    sig |= raw[offsets[1:] - 1]
    return sig[:, None]


def _rows_unique(data: pd.DataFrame, subset: list[str]) -> bool:
    """Whether the rows of ``data[subset]`` are unique; ``False`` when not proven cheaply.

    Every row gets a 64-bit hash of its values (the pseudonym's bytes, the other columns'
    signatures or factorised codes); equal rows have equal hashes, so unique hashes
    (checked by sorting) prove unique rows.
    """
    if not set(subset) <= set(data.columns):
        return False
    key = np.zeros(len(data), dtype=np.uint64)
    for name in subset:
        words = _fixed_width_words(data[name], 64) if name == "respondent" else None
        if words is None:
            words = _string_signature(data[name])
        if words is None:
            codes, _ = pd.factorize(data[name], use_na_sentinel=False)
            words = codes.astype(np.uint64)[:, None]
        # the first 16 hex digits of a pseudonym (64 bits) separate distinct ones just as well
        for j in range(min(words.shape[1], 2)):  # uint64 arithmetic wraps around
            np.multiply(key, np.uint64(0x100000001B3), out=key)
            np.add(key, words[:, j], out=key)
    key.sort()
    return not bool((key[1:] == key[:-1]).any())


def _is_pattern_check(check: pa.Check) -> bool:
    return bool(check.name == "str_matches"
                and (check.statistics or {}).get("pattern") == PSEUDONYM_PATTERN)


def _proofs(data: pd.DataFrame, schema: pa.DataFrameSchema) -> tuple[bool, bool]:
    """Whether the uniqueness of respondent and wave, and the pseudonym pattern, are each
    either not in ``schema`` or proven to hold on ``data`` by the fast tests."""
    unique = not schema.unique or _rows_unique(data, list(schema.unique))
    column = schema.columns.get("respondent")
    if column is None or not any(_is_pattern_check(c) for c in column.checks):
        return unique, True
    return unique, "respondent" in data.columns and _hex64_all(data["respondent"])


def _without(schema: pa.DataFrameSchema, *, unique: bool, pattern: bool) -> pa.DataFrameSchema:
    """``schema`` without its uniqueness check (``unique``) and pseudonym pattern check
    (``pattern``); shallow copies (pandera's update_column deep-copies every column)."""
    fast = schema
    if unique and schema.unique:
        fast = copy.copy(schema)
        fast.unique = None
    column = schema.columns.get("respondent")
    if pattern and column is not None:
        keep = [c for c in column.checks if not _is_pattern_check(c)]
        if len(keep) < len(column.checks):
            lighter = copy.copy(column)
            lighter.checks = keep
            if fast is schema:
                fast = copy.copy(schema)
            fast.columns = {**schema.columns, "respondent": lighter}
    return fast


def _without_proven_checks(data: pd.DataFrame, schema: pa.DataFrameSchema) -> pa.DataFrameSchema:
    """The schema minus the checks that faster, vectorised tests prove to pass on ``data``.

    Two checks cost most of the validation of a million rows: the pseudonym pattern (a
    regular expression per row, decided by :func:`_hex64_all`) and the uniqueness of
    respondent and wave (decided by :func:`_rows_unique`).  When a test cannot prove its
    check passes, pandera runs the check and reports the failures as always.
    """
    unique, pattern = _proofs(data, schema)
    return _without(schema, unique=unique, pattern=pattern)


#: From this many rows the fast tests run in a thread while pandera runs the other checks.
PARALLEL_MIN_ROWS = 50_000


def _summary(err: pa_errors.SchemaErrors, file: str | None) -> SchemaError:
    cases = err.failure_cases
    summary = (
        cases.groupby(["column", "check"], dropna=False).size().sort_values(ascending=False)
    )
    parts = [f"{col} {check}: {n}" for (col, check), n in summary.items()]
    structural = cases[cases["check"].astype(str).str.startswith("column_in_")]
    parts += [f"{c}: {v}" for c, v in zip(structural["check"], structural["failure_case"],
                                          strict=True)]
    first_col = str(summary.index[0][0]) if len(summary) else None
    return SchemaError(
        f"cleaned data fail the schema ({'; '.join(parts[:8])})",
        file=file,
        column=first_col,
        hint="check the duplicates policy and the column mapping",
    )


def validate(data: pd.DataFrame, schema: pa.DataFrameSchema, *, file: str | None = None) -> None:
    """Validate ``data`` lazily and raise one :class:`SchemaError` listing every failure.

    The uniqueness of respondent and wave and the pseudonym pattern are first tested by
    fast vectorised proofs (see :func:`_without_proven_checks`); pandera runs every other
    check, and those two when they are not proven.  On a large frame the proofs run in a
    thread while pandera checks the rest; when a proof fails, pandera validates again
    with that check, so the result is the same either way.

    Raises
    ------
    SchemaError
        With the failing checks counted per column and check.
    """
    if len(data) >= PARALLEL_MIN_ROWS:
        with ThreadPoolExecutor(1, thread_name_prefix="ipo-proofs") as pool:
            proofs = pool.submit(_proofs, data, schema)
            failed: pa_errors.SchemaErrors | None = None
            try:
                _without(schema, unique=True, pattern=True).validate(data, lazy=True,
                                                                     inplace=True)
            except pa_errors.SchemaErrors as err:
                failed = err
            unique, pattern = proofs.result()
        if unique and pattern:  # exactly the validation below: report its result
            if failed is not None:
                raise _summary(failed, file) from failed
            return
        fast = _without(schema, unique=unique, pattern=pattern)
    else:
        fast = _without_proven_checks(data, schema)
    try:
        fast.validate(data, lazy=True, inplace=True)
    except pa_errors.SchemaErrors as err:
        raise _summary(err, file) from err
