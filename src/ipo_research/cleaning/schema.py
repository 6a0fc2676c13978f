"""The schema of cleaned data, built from the instrument (pandera).

The schema doubles as the data dictionary of ``data/processed/``: a pseudonymous
``respondent`` (64 hex digits), a ``wave``, one float column per item within the
theoretical range, one per score within the same range, boolean flags, and one row per
respondent and wave.
"""

from __future__ import annotations

from collections.abc import Iterable

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
    lo, hi = float(inst.scale_min), float(inst.scale_max)
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
    blocks = [("", inst.items)]
    if retro_suffix is not None:
        blocks.append((retro_suffix, tuple(retro_items or inst.items)))
    for suffix, items in blocks:
        for name in (*items, *score_columns(inst)):
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

    in_scale = pa.Check(_in_scale, name=f"items and scores within {lo:g}-{hi:g}")
    return pa.DataFrameSchema(
        columns,
        checks=[in_scale],
        strict=True,
        unique=["respondent", "wave"],
        name=f"cleaned {inst.name}",
        coerce=False,
    )


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
        buffers = chunk.buffers()
        offsets = np.frombuffer(buffers[1], dtype=np.int64, count=chunk.offset + len(chunk) + 1)
        offsets = offsets[chunk.offset :]
        if not (np.diff(offsets) == 64).all():
            return False
        raw = np.frombuffer(buffers[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
        for start in range(0, raw.size, _SLICE):  # slices that stay in the CPU cache
            part = raw[start : start + _SLICE]
            # uint8 arithmetic wraps around: one comparison per range of characters
            if not (((part - np.uint8(48)) < 10) | ((part - np.uint8(97)) < 6)).all():
                return False
    return True


def _without_proven_checks(data: pd.DataFrame, schema: pa.DataFrameSchema) -> pa.DataFrameSchema:
    """The schema minus the pseudonym pattern check when a faster test proves it passes.

    The pattern check runs a regular expression on every row, which costs most of the
    validation of a million rows; the vectorised :func:`_hex64_all` decides the same.
    When it cannot prove the check passes, the full schema runs and reports the failures
    as always.
    """
    column = schema.columns.get("respondent")
    if column is None or "respondent" not in data.columns:
        return schema
    keep = [c for c in column.checks
            if not (c.name == "str_matches" and c.statistics.get("pattern") == PSEUDONYM_PATTERN)]
    if len(keep) < len(column.checks) and _hex64_all(data["respondent"]):
        return schema.update_column("respondent", checks=keep)
    return schema

def validate(data: pd.DataFrame, schema: pa.DataFrameSchema, *, file: str | None = None) -> None:
    """Validate ``data`` lazily and raise one :class:`SchemaError` listing every failure.

    Raises
    ------
    SchemaError
        With the failing checks counted per column and check.
    """
    try:
        _without_proven_checks(data, schema).validate(data, lazy=True)
    except pa_errors.SchemaErrors as err:
        cases = err.failure_cases
        summary = (
            cases.groupby(["column", "check"], dropna=False).size().sort_values(ascending=False)
        )
        parts = [f"{col} {check}: {n}" for (col, check), n in summary.items()]
        structural = cases[cases["check"].astype(str).str.startswith("column_in_")]
        parts += [f"{c}: {v}" for c, v in zip(structural["check"], structural["failure_case"],
                                              strict=True)]
        first_col = str(summary.index[0][0]) if len(summary) else None
        raise SchemaError(
            f"cleaned data fail the schema ({'; '.join(parts[:8])})",
            file=file,
            column=first_col,
            hint="check the duplicates policy and the column mapping",
        ) from err
