"""Recode Likert answers (numbers, "4,0", Dutch or English labels) to scale points.

Vectorised: each column is factorised and only its *distinct* answers are parsed, so a
column of a million answers with a dozen distinct values costs a dozen Python calls.
Every answer ends in exactly one class, counted per column:

``ok``        a scale point (number or label) - kept
``label``     a scale point given as a label (subset of ``ok``, for the audit)
``missing``   empty cell - missing
``na``        a "not applicable" label (instrument ``na_labels`` or user ``na_values``) - missing
``range``     a number outside the theoretical range or between scale points - missing, never clipped
``text``      neither a number nor a label - missing (or an error in strict mode)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ipo_research.errors import CleaningError
from ipo_research.instruments.model import Instrument

#: Answer classes in code order.
CLASSES = ("ok", "missing", "na", "range", "text")
_OK, _MISSING, _NA, _RANGE, _TEXT = range(5)


def _norm(value: object) -> str:
    return " ".join(str(value).split()).casefold()


def label_map(inst: Instrument, item: str | None = None) -> dict[str, int]:
    """Return normalised label -> scale point for every language (item-specific labels win)."""
    return {_norm(label): code for label, code in inst.label_codes(item).items()}


@dataclass
class Recoder:
    """Parse answers of one item; remembers what each distinct answer became.

    Parameters
    ----------
    inst
        The instrument (scale range, labels, N/A labels).
    item
        The item whose labels apply (its ``item_labels`` if any); ``None``: the
        instrument's labels.
    na_values
        Extra answers meaning "not applicable".
    """

    inst: Instrument
    item: str | None = None
    na_values: Iterable[str] = ()
    _labels: dict[str, int] = field(init=False)
    _na: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        self._labels = label_map(self.inst, self.item)
        self._na = frozenset(_norm(v) for v in (*self.inst.na_labels, *self.na_values))

    def parse(self, value: object) -> tuple[float, int, int]:
        """Return ``(number, class code, form)`` for one distinct answer.

        ``form`` is 1 for a label, 2 for a number written with a decimal comma, else 0.
        """
        lo, hi = self.inst.scale_min, self.inst.scale_max
        if isinstance(value, bool | np.bool_):
            return np.nan, _TEXT, 0
        if isinstance(value, int | float | np.integer | np.floating):
            number = float(value)
            if np.isnan(number):
                return np.nan, _MISSING, 0
        else:
            text = _norm(value)
            if text == "":
                return np.nan, _MISSING, 0
            if text in self._labels:
                return float(self._labels[text]), _OK, 1
            if text in self._na:
                return np.nan, _NA, 0
            comma = "," in text
            try:
                number = float(text.replace(",", "."))
            except ValueError:
                return np.nan, _TEXT, 0
            if not np.isfinite(number):
                return np.nan, _TEXT, 0
            if lo <= number <= hi and float(number).is_integer():
                return number, _OK, 2 if comma else 0
            return np.nan, _RANGE, 0
        if lo <= number <= hi and float(number).is_integer():
            return number, _OK, 0
        return np.nan, _RANGE, 0


@dataclass
class RecodedColumn:
    """One recoded column: values and the class code of every cell."""

    values: np.ndarray
    classes: np.ndarray
    labels: int
    commas: int = 0

    def count(self, cls: str) -> int:
        """Number of cells of answer class ``cls``."""
        return int(np.count_nonzero(self.classes == CLASSES.index(cls)))


def source_row(position: int, row_offset: int | None) -> int:
    """Row of positional row ``position`` as the user sees it (see ``read_survey``)."""
    return position + row_offset if row_offset is not None else position + 1


def recode_column(column: pd.Series, recoder: Recoder) -> RecodedColumn:
    """Recode one column of answers (vectorised over its distinct values)."""
    inst = recoder.inst
    n = len(column)
    if pd.api.types.is_numeric_dtype(column.dtype) and not pd.api.types.is_bool_dtype(column.dtype):
        values = column.to_numpy(dtype=float, na_value=np.nan)
        classes = np.full(n, _OK, dtype=np.int8)
        missing = np.isnan(values)
        valid = (values >= inst.scale_min) & (values <= inst.scale_max) & (np.mod(values, 1) == 0)
        classes[missing] = _MISSING
        bad = ~missing & ~valid
        classes[bad] = _RANGE
        values = np.where(valid, values, np.nan)
        return RecodedColumn(values, classes, 0, 0)
    codes, uniques = pd.factorize(column, use_na_sentinel=True)
    parsed = [recoder.parse(u) for u in uniques]
    lookup_val = np.array([p[0] for p in parsed] + [np.nan], dtype=float)
    lookup_cls = np.array([p[1] for p in parsed] + [_MISSING], dtype=np.int8)
    lookup_form = np.array([p[2] for p in parsed] + [0], dtype=np.int8)
    forms = np.bincount(lookup_form[codes], minlength=3)
    return RecodedColumn(
        values=lookup_val[codes],
        classes=lookup_cls[codes],
        labels=int(forms[1]),
        commas=int(forms[2]),
    )


def recode_items(
    frame: pd.DataFrame,
    columns: Mapping[str, str],
    inst: Instrument,
    *,
    na_values: Iterable[str] = (),
    strict: bool = False,
    file: str | None = None,
    row_offset: int | None = None,
) -> tuple[pd.DataFrame, dict[str, RecodedColumn]]:
    """Recode the item columns of a raw export.

    Parameters
    ----------
    frame
        Raw export.
    columns
        Output item name -> raw column name.
    inst
        The instrument (scale, labels per item, N/A labels).
    na_values
        Extra answers meaning "not applicable".
    strict
        Raise at the first answer that is neither a number nor a label.
    file, row_offset
        Location for error messages: the row reported is ``position + row_offset`` (the
        spreadsheet line, as :func:`~ipo_research.io.read_survey` records it), or the
        1-based data row ``position + 1`` when ``row_offset`` is ``None``.

    Returns
    -------
    values : pandas.DataFrame
        Float columns named by item, index of ``frame``.
    recoded : dict
        Item -> :class:`RecodedColumn` (class codes per cell, for the audit).

    Raises
    ------
    CleaningError
        In strict mode, text that is neither a number nor a label.
    """
    values: dict[str, np.ndarray] = {}
    recoded: dict[str, RecodedColumn] = {}
    recoders: dict[str, Recoder] = {}
    for item, raw_name in columns.items():
        base = item if item in inst.item_labels else ""
        if base not in recoders:
            recoders[base] = Recoder(inst, base or None, tuple(na_values))
        recoder = recoders[base]
        rec = recode_column(frame[raw_name], recoder)
        if strict:
            bad = np.flatnonzero(rec.classes == _TEXT)
            if bad.size:
                pos = int(bad[0])
                raise CleaningError(
                    "answer is neither a number nor a label of the scale",
                    file=file,
                    row=source_row(pos, row_offset),
                    column=raw_name,
                    hint=(
                        f"use {recoder.inst.scale_min}-{recoder.inst.scale_max} or a label of "
                        f"{recoder.inst.name}, or clean without strict mode to count such answers"
                    ),
                )
        values[item] = rec.values
        recoded[item] = rec
    return pd.DataFrame(values, index=frame.index), recoded
