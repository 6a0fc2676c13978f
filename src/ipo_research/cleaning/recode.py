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

import os
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ipo_research.cleaning.rules import _norm_label as _norm
from ipo_research.errors import CleaningError
from ipo_research.instruments.model import Instrument

#: Threads that recode item columns at once (at most the number of CPUs).
RECODE_THREADS = 2
#: Fewer answer cells than this are recoded in one thread (threads cost more than they save).
PARALLEL_MIN_CELLS = 2_000_000

#: Answer classes in code order.
CLASSES = ("ok", "missing", "na", "range", "text")
_OK, _MISSING, _NA, _RANGE, _TEXT = range(5)


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

    @property
    def plain_digits(self) -> bool:
        """Whether a one-digit answer is always just its number (no label or N/A value is
        a digit), so that digits can be recoded without :meth:`parse`."""
        return not any(str(d) in self._labels or str(d) in self._na for d in range(10))

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


def _lookup(
    recoder: Recoder, uniques: Iterable[object]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Parse distinct answers; tables of value, class and form with a last "missing" entry."""
    parsed = [recoder.parse(u) for u in uniques]
    val = np.array([p[0] for p in parsed] + [np.nan], dtype=float)
    cls = np.array([p[1] for p in parsed] + [_MISSING], dtype=np.int8)
    form = np.array([p[2] for p in parsed] + [0], dtype=np.int8)
    return val, cls, form


def _arrow_strings(column: pd.Series) -> pa.ChunkedArray | None:
    """The pyarrow (large) string data behind a pandas string column, else ``None``."""
    dtype = column.dtype
    arrow_backed = (isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow") or (
        isinstance(dtype, pd.ArrowDtype)
        and (pa.types.is_string(dtype.pyarrow_dtype) or pa.types.is_large_string(dtype.pyarrow_dtype))
    )
    if not arrow_backed:
        return None
    data = pa.chunked_array(pa.array(column.array))
    if not (pa.types.is_string(data.type) or pa.types.is_large_string(data.type)):
        return None  # pragma: no cover - defensive: every pyarrow string dtype is one of both
    return data


def _single_digits(data: pa.ChunkedArray, lo: int, hi: int) -> np.ndarray:
    """Digit of every answer that is one digit from ``lo`` to ``hi``, else 255.

    Read straight from the Arrow offsets and data buffers, so the common answers ``"1"``
    ... ``"5"`` of a million-row column need neither hashing nor a Python object.
    """
    out = np.full(len(data), 255, dtype=np.uint8)
    pos = 0
    for chunk in data.chunks:
        size = len(chunk)
        buffers = chunk.buffers()
        if size == 0 or buffers[2] is None or len(buffers[2]) == 0:
            pos += size
            continue
        width = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
        offsets = np.frombuffer(buffers[1], dtype=width, count=chunk.offset + size + 1)
        offsets = offsets[chunk.offset :]
        raw = np.frombuffer(buffers[2], dtype=np.uint8)
        starts = offsets[:-1]
        if starts[-1] >= len(raw):  # trailing empty strings point past the data
            starts = np.minimum(starts, len(raw) - 1)
        digit = raw[starts] - np.uint8(48)  # wraps around below "0"
        ok = (np.diff(offsets) == 1) & (digit >= lo) & (digit <= hi)
        if chunk.null_count:
            bits = np.frombuffer(buffers[0], dtype=np.uint8)
            ok &= np.unpackbits(bits, count=chunk.offset + size, bitorder="little")[
                chunk.offset :
            ].view(bool)
        np.copyto(out[pos : pos + size], digit, where=ok)
        pos += size
    return out


def _recode_into(
    column: pd.Series, recoder: Recoder, values: np.ndarray, classes: np.ndarray
) -> tuple[np.ndarray, int, int]:
    """Recode ``column`` into the preallocated ``values`` and ``classes``.

    Returns the number of cells per class (in :data:`CLASSES` order), of labels and of
    decimal commas.
    """
    inst = recoder.inst
    if pd.api.types.is_numeric_dtype(column.dtype) and not pd.api.types.is_bool_dtype(column.dtype):
        numbers = column.to_numpy(dtype=float, na_value=np.nan)
        missing = np.isnan(numbers)
        valid = (numbers >= inst.scale_min) & (numbers <= inst.scale_max) & (np.mod(numbers, 1) == 0)
        classes[:] = _OK
        classes[missing] = _MISSING
        classes[~missing & ~valid] = _RANGE
        np.copyto(values, np.where(valid, numbers, np.nan))
        return np.bincount(classes, minlength=len(CLASSES)), 0, 0
    strings = _arrow_strings(column)
    lo, hi = max(int(inst.scale_min), 0), min(int(inst.scale_max), 9)
    if strings is not None and recoder.plain_digits and lo <= hi:
        # answers that are one digit of the scale ("1" ... "5") straight from the buffers;
        # only the other cells (labels, "4,0", "6", empty cells, text) are
        # dictionary-encoded and parsed
        digits = _single_digits(strings, lo, hi)
        np.copyto(values, digits, casting="unsafe")
        classes[:] = _OK
        rest = np.flatnonzero(digits == 255)
        per_class = np.zeros(len(CLASSES), dtype=np.int64)
        per_class[_OK] = len(digits) - len(rest)
        if not rest.size:
            return per_class, 0, 0
        encoded = strings.take(pa.array(rest)).combine_chunks().dictionary_encode()
        rest_uniques = encoded.dictionary.to_pylist()
        rest_codes = pc.fill_null(encoded.indices, len(rest_uniques)).to_numpy()
        val, cls, form = _lookup(recoder, rest_uniques)
        values[rest] = val[rest_codes]
        classes[rest] = cls[rest_codes]
        per_code = np.bincount(rest_codes, minlength=len(val))
        per_class += np.bincount(cls, weights=per_code, minlength=len(CLASSES)).astype(np.int64)
        forms = np.bincount(form, weights=per_code, minlength=3).astype(np.int64)
        return per_class, int(forms[1]), int(forms[2])
    codes, uniques = pd.factorize(column, use_na_sentinel=True)
    val, cls, form = _lookup(recoder, uniques)
    codes = np.where(codes < 0, len(uniques), codes)
    per_code = np.bincount(codes, minlength=len(val))
    np.take(val, codes, out=values, mode="clip")
    np.take(cls, codes, out=classes, mode="clip")
    per_class = np.bincount(cls, weights=per_code, minlength=len(CLASSES)).astype(np.int64)
    forms = np.bincount(form, weights=per_code, minlength=3).astype(np.int64)
    return per_class, int(forms[1]), int(forms[2])


def recode_column(column: pd.Series, recoder: Recoder) -> RecodedColumn:
    """Recode one column of answers (vectorised over its distinct values)."""
    n = len(column)
    values = np.empty(n, dtype=float)
    classes = np.empty(n, dtype=np.int8)
    _, labels, commas = _recode_into(column, recoder, values, classes)
    return RecodedColumn(values=values, classes=classes, labels=labels, commas=commas)


@dataclass
class RecodedBlock:
    """Recoded item columns as 2-D arrays (rows x items, column-major).

    Attributes
    ----------
    items
        Item names, in column order.
    values
        Scale points (float, missing as NaN).
    classes
        Class code (index into :data:`CLASSES`) of every cell.
    counts
        Cells per item and class, shape ``(items, classes)``.
    labels, commas
        Per item: cells given as a label, numbers written with a decimal comma.
    """

    items: list[str]
    values: np.ndarray
    classes: np.ndarray
    counts: np.ndarray
    labels: np.ndarray
    commas: np.ndarray

    def count(self, cls: str) -> np.ndarray:
        """Cells of answer class ``cls`` per item."""
        return self.counts[:, CLASSES.index(cls)]

    def answered(self) -> np.ndarray:
        """Which cells hold a scale point (class ``ok``: exactly the cells whose value is
        not missing), as a column-major boolean block; read from the one-byte classes,
        which is cheaper than testing the values for NaN."""
        return self.classes == _OK


def recode_block(
    frame: pd.DataFrame,
    columns: Mapping[str, str],
    inst: Instrument,
    *,
    na_values: Iterable[str] = (),
    strict: bool = False,
    file: str | None = None,
    row_offset: int | None = None,
    out: np.ndarray | None = None,
) -> RecodedBlock:
    """Recode the item columns of a raw export into one 2-D block.

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
    out
        A float array of rows x items with contiguous columns (e.g. columns of a larger
        column-major array) to hold the values; else one is allocated.

    Returns
    -------
    RecodedBlock
        Values and answer classes of every cell, with counts per item for the audit.

    Raises
    ------
    CleaningError
        In strict mode, text that is neither a number nor a label.
    """
    items = list(columns)
    n = len(frame)
    values = np.empty((n, len(items)), dtype=float, order="F") if out is None else out
    classes = np.empty((n, len(items)), dtype=np.int8, order="F")
    counts = np.zeros((len(items), len(CLASSES)), dtype=np.int64)
    labels = np.zeros(len(items), dtype=np.int64)
    commas = np.zeros(len(items), dtype=np.int64)
    recoders: dict[str, Recoder] = {}
    jobs: list[tuple[pd.Series, Recoder]] = []
    for item, raw_name in columns.items():
        base = item if item in inst.item_labels else ""
        if base not in recoders:
            recoders[base] = Recoder(inst, base or None, tuple(na_values))
        jobs.append((frame[raw_name], recoders[base]))

    def run(j: int) -> tuple[np.ndarray, int, int]:
        column, recoder = jobs[j]
        return _recode_into(column, recoder, values[:, j], classes[:, j])

    # columns are independent and each writes its own slices; numpy and Arrow release
    # the GIL for the heavy part, so two threads recode a large export nearly twice as fast
    workers = min(RECODE_THREADS, os.cpu_count() or 1, len(items))
    if workers > 1 and n * len(items) >= PARALLEL_MIN_CELLS:
        with ThreadPoolExecutor(workers, thread_name_prefix="ipo-recode") as pool:
            results = list(pool.map(run, range(len(items))))
    else:
        results = [run(j) for j in range(len(items))]
    for j, (raw_name, (per_class, n_labels, n_commas)) in enumerate(
        zip(columns.values(), results, strict=True)
    ):
        counts[j], labels[j], commas[j] = per_class, n_labels, n_commas
        recoder = jobs[j][1]
        if strict and counts[j, _TEXT]:
            pos = int(np.flatnonzero(classes[:, j] == _TEXT)[0])
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
    return RecodedBlock(items, values, classes, counts, labels, commas)
