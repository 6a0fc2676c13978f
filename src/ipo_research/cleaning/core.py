"""The :func:`clean` pipeline: raw export in, pseudonymised tidy data and an audit out.

Steps, in order (each one a row, or a few rows, of the audit):

1. **key**: resolve the pseudonymisation key; without one nothing runs.
2. **mapping**: check that the respondent, wave and mapped columns exist and that every
   instrument item has a column (errors name file and column).
3. **privacy**: find identifier columns (by name, by content, listed by the user); they
   are never copied to the output.
4. **recode**: answers -> scale points; empty, N/A, out-of-scale and text answers become
   missing and are counted per column (text raises in strict mode).
5. **respondent**, **wave**: rows without a respondent id or with an unknown wave are
   dropped; wave labels are mapped (``voormeting`` -> ``pre``).
6. **duplicates**, **speeders**, **straight-lining**, **too few answered**: the quality
   rules of :class:`~ipo_research.cleaning.rules.CleaningRules`, each drop or flag.
7. **reverse keying** (``min + max - x`` on the theoretical range) and **scores** (mean of
   answered items when the share answered reaches ``min_answered``, else missing).
8. **waves**: respondents not seen in every wave of the export are flagged
   (``matched = False``) and counted, or dropped with ``drop_unmatched``.
9. **pseudonyms** (HMAC-SHA256) and the **schema** check.

Retrospective pre/post (ICCAS): an export row of the post wave holds the "now" ratings
(mapped to the items, ``q1``...) and the "before" ratings (mapped to ``q1_retro``...).
The output keeps one row per respondent and wave; the retrospective ratings and scores
sit beside the post ratings in ``<item>_retro`` / ``<score>_retro`` columns, so the
retrospective change is a paired comparison within one row (``total_retro`` vs
``total``) and the true pre/post change one between the ``pre`` and ``post`` rows.

Speed: the steps work on numpy arrays and the output frame is built once.  Three things
run beside the main line of work (see ``docs/cleaning.md``, "Speed"): the respondent ids
are coded in a thread during the privacy step, the item columns are recoded by two
threads, and the HMAC of every distinct id is computed by a helper process
(:class:`~ipo_research.cleaning.pseudonym.HmacJob`) from the recoding to the assembly.
The output is the same as computed one step after another.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ipo_research.cleaning.audit import AuditTrail, per_column
from ipo_research.cleaning.identifiers import find_identifiers, identifier_by_content
from ipo_research.cleaning.pseudonym import (
    HmacJob,
    pseudonym_series,
    resolve_key,
    respondent_keys,
)
from ipo_research.cleaning.recode import CLASSES, recode_block, source_row
from ipo_research.cleaning.rules import CleaningRules, _norm_label
from ipo_research.cleaning.schema import _offsets_and_bytes, schema_for, score_columns, validate
from ipo_research.errors import CleaningError, PrivacyError
from ipo_research.instruments.model import Instrument

_DURATION_NAMES = ("duur", "duration", "duurinseconden", "durationinseconds", "tijdsduur")
_TIMESTAMP_NAMES = (
    "einddatum", "enddate", "recordeddate", "submitdate", "datumingediend", "completiontime",
    "voltooiingstijd", "eindtijd",
)
#: Rows moved at a time when the kept rows are compacted (a piece stays in the CPU cache).
_PIECE_ROWS = 1 << 15
_TIME_FORMATS = ("%d-%m-%Y %H:%M", "%d-%m-%Y %H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M")


@dataclass(frozen=True)
class CleaningResult:
    """What :func:`clean` returns.

    Attributes
    ----------
    data
        One row per respondent x wave: ``respondent`` (pseudonym), ``wave``, kept context
        columns, item columns (float, reverse-keyed), retrospective item columns when
        mapped, one column per subscale score and the total score, ``flag_*`` columns for
        rules set to ``"flag"``, and ``matched``.
    audit
        One row per reason (see :mod:`ipo_research.cleaning.audit`).
    provenance
        Source file, instrument, rules and row counts (never the key).
    """

    data: pd.DataFrame
    audit: pd.DataFrame
    provenance: Mapping[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        return (
            f"CleaningResult({len(self.data)} rows x {self.data.shape[1]} columns, "
            f"{int(self.audit['rows_dropped'].sum())} rows dropped)"
        )


def item_columns(template: str, inst: Instrument, *, suffix: str = "") -> dict[str, str]:
    """Build a column mapping from a numbered template.

    Parameters
    ----------
    template
        Raw column name with ``{n}`` for the item number (1-based, questionnaire order),
        e.g. ``"Vraag {n}"`` or ``"Voor_{n}"``.
    inst
        The instrument.
    suffix
        Appended to the item name (``"_retro"`` for retrospective ratings).

    Returns
    -------
    dict
        Raw column -> output column, e.g. ``{"Vraag 1": "q1", ...}``.

    Examples
    --------
    >>> from ipo_research.instruments.model import Instrument
    >>> inst = Instrument("X", ("a", "b"), 1, 5)
    >>> item_columns("Vraag {n}", inst)
    {'Vraag 1': 'a', 'Vraag 2': 'b'}
    """
    if "{n}" not in template:
        raise CleaningError(
            f"column template {template!r} has no '{{n}}'",
            hint="write e.g. 'Vraag {n}' for columns 'Vraag 1', 'Vraag 2', ...",
        )
    return {template.replace("{n}", str(i)): item + suffix for i, item in enumerate(inst.items, 1)}


def retro_suffix(inst: Instrument, rules: CleaningRules) -> str:
    """Suffix of the retrospective item and score columns: ``rules.retro_suffix``, else the
    instrument's ``retrospective["before"]``, else ``"_retro"``."""
    return rules.retro_suffix or inst.retrospective.get("before") or "_retro"


def _source_name(raw: pd.DataFrame, source: str | None) -> str | None:
    if source is not None:
        return source
    for key in ("source", "path", "file", "filename"):
        value = raw.attrs.get(key)
        if value:
            return str(value)
    return None


def _find_column(frame: pd.DataFrame, wanted: str | None, names: tuple[str, ...]) -> str | None:
    if wanted is not None:
        return wanted
    for column in frame.columns:
        norm = "".join(ch for ch in str(column).casefold() if ch.isalnum())
        if norm in names or any(norm.startswith(n) for n in names[:2]):
            return str(column)
    return None


def _parse_duration(
    values: pd.Series, *, file: str | None, column: str, row_offset: int | None
) -> np.ndarray:
    """Seconds as floats; decimal comma accepted; text raises naming the row."""
    if pd.api.types.is_numeric_dtype(values.dtype):
        return values.to_numpy(dtype=float, na_value=np.nan)
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    parsed = np.empty(len(uniques) + 1, dtype=float)
    parsed[-1] = np.nan
    for i, u in enumerate(uniques):
        text = str(u).strip().replace(",", ".")
        if text == "":
            parsed[i] = np.nan
            continue
        try:
            parsed[i] = float(text)
        except ValueError:
            pos = int(np.flatnonzero(codes == i)[0])
            raise CleaningError(
                "duration is not a number",
                file=file,
                row=source_row(pos, row_offset),
                column=column,
                hint="durations must be seconds (decimal comma allowed); fix the export "
                "or set rules.speeders='off' and rules.duration to another column",
            ) from None
    return parsed[codes]


def _canonical_stamps(text: pd.Series) -> np.ndarray:
    """Times written exactly as ``dd-mm-jjjj uu:mm`` (the first of the accepted formats),
    parsed by Arrow; NaT for every other value.

    A value counts only when it is the text that writing the parsed time back in that
    format gives (zero-padded fields, a year of four digits), so it is a well-formed time
    that :func:`pandas.to_datetime` with that format reads the same; the others go
    through the pandas formats as before.  (pandas parses a fixed format at about 2
    microseconds per value, Arrow some 20 times faster; the text is rebuilt from the
    parsed fields with numpy, as formatting it back with Arrow costs a microsecond a value.)
    """
    fmt = _TIME_FORMATS[0]
    nat = np.full(len(text), np.datetime64("NaT"), dtype="datetime64[ns]")
    try:
        strings = pa.chunked_array(pa.array(text.array)).cast(pa.large_string())
        parsed = pc.strptime(strings, format=fmt, unit="ns", error_is_null=True)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        return nat
    stamps = np.asarray(parsed.to_numpy(), dtype="datetime64[ns]")
    chunk = strings.combine_chunks()
    if len(chunk) == 0:
        return nat
    offsets, raw = _offsets_and_bytes(chunk)
    rows = np.flatnonzero((np.diff(offsets) == 16) & ~np.isnat(stamps))
    if chunk.null_count:
        valid = np.asarray(chunk.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
        rows = rows[valid[rows]]
    if rows.size == 0:
        return nat
    written = raw[offsets[rows][:, None] + np.arange(16)]
    # the text Arrow would write for each parsed time: "dd-mm-jjjj uu:mm"
    when = stamps[rows]
    minute = when.astype("datetime64[m]")
    day = minute.astype("datetime64[D]")
    month = day.astype("datetime64[M]")
    year = month.astype("datetime64[Y]")
    fields = {
        0: (day - month).astype(np.int64) + 1,
        3: (month - year).astype(np.int64) + 1,
        6: year.astype(np.int64) + 1970,
        11: (minute - day).astype(np.int64) // 60,
        14: (minute - day).astype(np.int64) % 60,
    }
    expected = np.empty((rows.size, 16), dtype=np.int64)
    for pos, value in fields.items():
        width = 4 if pos == 6 else 2
        for k in range(width):
            expected[:, pos + k] = value // 10 ** (width - 1 - k) % 10 + 48
    expected[:, [2, 5, 10, 13]] = [ord("-"), ord("-"), ord(" "), ord(":")]
    same = (expected == written).all(axis=1)
    same &= (fields[6] >= 1000) & (fields[6] <= 9999) & (when == minute)
    nat[rows[same]] = when[same]
    return nat


def _in_ns_range(parsed: pd.Series) -> pd.Series:
    """Parsed times as nanoseconds; NaT for a time that does not fit (before 1677 or after
    2262: no real submission time), which pandas would refuse to convert."""
    fits = (parsed >= pd.Timestamp.min) & (parsed <= pd.Timestamp.max)
    return parsed.where(fits).astype("datetime64[ns]")


def _parse_timestamp(values: pd.Series) -> np.ndarray:
    """Submission times as int64 nanoseconds (NaT -> minimum), for ordering only."""
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        stamps = _in_ns_range(pd.to_datetime(values))
    else:
        text = values.astype("str")
        stamps = pd.Series(_canonical_stamps(text), index=values.index, dtype="datetime64[ns]")
        for fmt in _TIME_FORMATS:
            todo = stamps.isna()
            if not todo.any():
                break
            stamps[todo] = _in_ns_range(pd.to_datetime(text[todo], format=fmt, errors="coerce"))
        todo = stamps.isna() & values.notna()
        if todo.any():
            stamps[todo] = _in_ns_range(pd.to_datetime(
                text[todo], dayfirst=True, format="mixed", errors="coerce"
            ))
    out = stamps.to_numpy(dtype="datetime64[ns]").astype("int64")
    out[pd.isna(stamps).to_numpy()] = np.iinfo(np.int64).min
    return out


def _count_rows(mask: np.ndarray) -> np.ndarray:
    """Number of ``True`` cells per row of a 2-D boolean array (``int64``).

    Counted column by column in small integers: the columns of a column-major block are
    contiguous, so this streams through memory once.
    """
    n, width = mask.shape
    counts = np.zeros(n, dtype=np.uint8 if width < 256 else np.int64)
    for j in range(width):
        np.add(counts, mask[:, j], out=counts)
    return counts.astype(np.int64)


def _group_sums(
    values: np.ndarray, answered_cells: np.ndarray, columns: list[int], low: float
) -> tuple[np.ndarray, np.ndarray]:
    """Sum and number of the answered cells of ``columns``, per row.

    ``answered_cells`` tells which cells of ``values`` are answered.  The sums are
    accumulated column by column, in the order of ``columns``, so they need no copy of
    the block.  When no answer lies below 0 (``low``, the scale minimum, is not negative)
    a missing answer adds ``fmax(nan, 0) = 0`` and an answer ``fmax(x, 0) = x``, which
    is the same sum as skipping the missing answers and faster than a masked addition.
    """
    n = values.shape[0]
    counts = np.zeros(n, dtype=np.uint8 if len(columns) < 256 else np.int64)
    sums = np.zeros(n)
    scratch = np.empty(n) if low >= 0 else None
    for j in columns:
        if scratch is not None:
            np.fmax(values[:, j], 0.0, out=scratch)
            sums += scratch
        else:
            np.add(sums, values[:, j], out=sums, where=answered_cells[:, j])
        np.add(counts, answered_cells[:, j], out=counts)
    return sums, counts


def _group_score(
    sums: np.ndarray, counts: np.ndarray, width: int, min_answered: float
) -> np.ndarray:
    """Score of one item group: the mean of its answered items, when at least
    ``min_answered`` of its ``width`` items are answered, else missing.

    ``sums`` and ``counts`` are those of :func:`_group_sums`; ``width`` counts the group's
    items, also those without a column (never answered: the retrospective block may lack
    some items).
    """
    enough = counts >= math.ceil(min_answered * width - 1e-9)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = sums / counts
    return np.where(enough & (counts > 0), means, np.nan)


def _duplicate_losers(
    rows: np.ndarray,
    pair: np.ndarray,
    stamps: np.ndarray,
    complete: np.ndarray | None,
    *,
    first: bool,
    n_rows: int,
) -> np.ndarray:
    """Mask of the duplicate submissions that lose to a better one of their group.

    ``rows`` are the positions of the live rows in a duplicate group, ``pair`` the group
    (respondent x wave) of every row.  The row kept per group is the first by: complete
    before incomplete (when ``complete`` is given), then the latest (``first``: the
    earliest) submission time ``stamps``, then the last (``first``: the first) position.
    """
    losers = np.zeros(n_rows, dtype=bool)
    if rows.size == 0:
        return losers
    group = pair[rows]
    stamp = stamps[rows]
    incomplete = ~complete[rows] if complete is not None else np.zeros(rows.size, dtype=bool)
    if first:
        order = np.lexsort((rows, stamp, incomplete, group))
    else:
        # ~x reverses the order of int64 values without overflow (NaT is the minimum)
        order = np.lexsort((-rows, ~stamp, incomplete, group))
    ranked = group[order]
    best = np.ones(rows.size, dtype=bool)
    best[1:] = ranked[1:] != ranked[:-1]
    losers[rows[order[~best]]] = True
    return losers


def _kept_rows(column: pd.Series, idx: np.ndarray, alive: np.ndarray) -> pd.Series:
    """The rows ``idx`` (where ``alive``) of a raw column, with a fresh 0-based index.

    A text column (pandas ``str``, Arrow-backed) is filtered by Arrow with the mask, which
    is some three times faster than taking the positions when most rows are kept.
    """
    dtype = column.dtype
    if (isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow"
            and dtype.na_value is np.nan):
        data = pa.chunked_array(pa.array(column.array))
        if pa.types.is_large_string(data.type):
            return pd.Series(pd.array(data.filter(pa.array(alive)), dtype=dtype))
    return column.iloc[idx].reset_index(drop=True)


def _str_series(array: pa.Array) -> pd.Series:
    """A pandas string (``str``) Series over an Arrow string array, without a copy."""
    return pd.Series(pd.array(array, dtype=pd.StringDtype("pyarrow", na_value=np.nan)))


def clean(
    raw: pd.DataFrame,
    inst: Instrument,
    *,
    respondent: str,
    wave: str | None = None,
    wave_value: str | None = None,
    columns: Mapping[str, str] | None = None,
    key: bytes | str | None = None,
    key_file: str | os.PathLike[str] | None = None,
    rules: CleaningRules | None = None,
    source: str | None = None,
) -> CleaningResult:
    """Clean, score and pseudonymise one survey export.

    Parameters
    ----------
    raw
        The export as read by :func:`ipo_research.read_survey` (never modified).  When
        ``raw.attrs`` holds ``source``/``path`` and ``row_offset`` (from ``read_survey``),
        errors name the file and the row as the file counts it.
    inst
        The instrument, e.g. ``load_instrument("RIPLS")``.
    respondent
        Column with the respondent id (student number); it becomes a pseudonym.
    wave
        Column with the wave (``voormeting``/``nameting``...; mapped by ``rules.waves``).
    wave_value
        The wave of every row, for exports of one wave without a wave column.
    columns
        Raw column -> output column.  Targets that are items (``"q1"``) or retrospective
        items (``"q1_retro"``) are answers; other targets rename a kept context column.
        Raw columns already named like an item are used as that item.
    key, key_file
        The pseudonymisation key, or a file holding it; otherwise ``$IPO_RESEARCH_KEY`` or
        ``$IPO_RESEARCH_KEY_FILE``.  Never stored in the result.
    rules
        Options of the cleaning rules (:class:`CleaningRules`); defaults suit most exports.
    source
        Name of the export for messages and provenance (default: from ``raw.attrs``).

    Returns
    -------
    CleaningResult
        ``.data`` (validated against the instrument's schema) and ``.audit``, with
        ``audit.rows_dropped.sum() + len(data) == len(raw)``.

    Raises
    ------
    PrivacyError
        No key, or a context column to keep holds identifiers.
    CleaningError
        A named column is missing, an item has no column, a duration is text, or (strict
        mode) an answer is neither a number nor a label.
    SchemaError
        The cleaned data break the schema (e.g. duplicates kept with ``duplicates="keep"``).

    Examples
    --------
    >>> import pandas as pd
    >>> from ipo_research.instruments.model import Instrument
    >>> inst = Instrument("X", ("a", "b"), 1, 5, reverse=("b",), total="total",
    ...                   min_answered=0.5)
    >>> raw = pd.DataFrame({"id": ["1", "2"], "Meting": ["voormeting", "voormeting"],
    ...                     "A": ["4", "4,0"], "B": [2, 9]})
    >>> res = clean(raw, inst, respondent="id", wave="Meting", columns={"A": "a", "B": "b"},
    ...             key=b"k" * 32, rules=CleaningRules(straightlining="off"))
    >>> res.data[["wave", "a", "b", "total"]]
      wave    a    b  total
    0  pre  4.0  4.0    4.0
    1  pre  4.0  NaN    4.0
    """
    secret = resolve_key(key, key_file=key_file)
    rules = rules or CleaningRules()
    file = _source_name(raw, source)
    offset = raw.attrs.get("row_offset")
    row_offset = int(offset) if offset is not None else None
    # a view without attrs (the export is never modified): pandas deep-copies a frame's
    # attrs into every column taken from it, dozens of times in one run
    raw = raw.copy(deep=False)
    raw.attrs = {}
    min_answered = rules.min_answered if rules.min_answered is not None else inst.min_answered
    retro = retro_suffix(inst, rules)
    n_raw = len(raw)
    audit = AuditTrail()

    # ---------------------------------------------------------------- mapping
    present = {str(c) for c in raw.columns}

    def _missing(column: str, what: str, hint: str) -> CleaningError:
        return CleaningError(f"{what} not in the export", file=file, column=column, hint=hint)

    available = ", ".join(map(str, list(raw.columns)[:12]))
    if respondent not in present:
        raise _missing(respondent, "respondent column", f"columns are: {available}")
    if wave is None and wave_value is None:
        raise CleaningError(
            "no wave column and no wave_value given", file=file,
            hint="pass wave='Meting' (a column) or wave_value='pre' for a one-wave export",
        )
    if wave is not None and wave not in present:
        raise _missing(wave, "wave column", f"columns are: {available}")
    mapping = dict(columns or {})
    for raw_name in mapping:
        if raw_name not in present:
            raise _missing(raw_name, "mapped column", f"columns are: {available}")
    targets = list(mapping.values())
    dupes = sorted({t for t in targets if targets.count(t) > 1})
    if dupes:
        raise CleaningError(
            f"two raw columns map to {dupes[0]!r}", file=file, column=dupes[0],
            hint="map each output column from one raw column",
        )
    mapped_raw = set(mapping)
    now_cols: dict[str, str] = {}
    retro_cols: dict[str, str] = {}
    renames: dict[str, str] = {}
    for raw_name, target in mapping.items():
        if target in inst.items:
            now_cols[target] = raw_name
        elif target.endswith(retro) and target[: -len(retro)] in inst.items:
            retro_cols[target[: -len(retro)]] = raw_name
        else:
            renames[raw_name] = target
    for item in inst.items:
        if item not in now_cols and item in present and item not in mapped_raw:
            now_cols[item] = item
    lacking = [i for i in inst.items if i not in now_cols]
    if lacking:
        raise CleaningError(
            f"instrument {inst.name} item {lacking[0]!r} has no column "
            f"({len(lacking)} of {len(inst.items)} items unmapped)",
            file=file, column=lacking[0],
            hint="map a raw column to it, e.g. columns={'Vraag 1': 'q1'} or items: 'Vraag {n}'",
        )
    now_cols = {i: now_cols[i] for i in inst.items}
    retro_cols = {i: retro_cols[i] for i in inst.items if i in retro_cols}
    has_retro = bool(retro_cols)
    duration_col = _find_column(raw, rules.duration, _DURATION_NAMES)
    if duration_col is not None and duration_col not in present:
        raise _missing(duration_col, "duration column", "set rules.duration to a column or None")
    stamp_col = _find_column(raw, rules.timestamp, _TIMESTAMP_NAMES)
    if stamp_col is not None and stamp_col not in present:
        raise _missing(stamp_col, "timestamp column", "set rules.timestamp to a column or None")
    for name in rules.identifiers:
        if name not in present:
            raise _missing(name, "identifier column", "list only columns of this export")

    # the respondent ids are coded in a thread while the privacy checks run (pandas
    # factorises without the GIL)
    coder = ThreadPoolExecutor(1, thread_name_prefix="ipo-ids")
    keys = coder.submit(respondent_keys, raw[respondent])
    coder.shutdown(wait=False)

    # ---------------------------------------------------------------- privacy
    answer_cols = set(now_cols.values()) | set(retro_cols.values())
    found = find_identifiers(raw, skip=answer_cols | {respondent}, listed=rules.identifiers)
    found = [f for f in found if f.column != respondent]
    ident_cols = {f.column for f in found} | {respondent}
    meta_cols = {c for c in (wave, duration_col, stamp_col) if c is not None}
    if rules.keep is None:
        keep = [
            str(c) for c in raw.columns
            if str(c) not in answer_cols | ident_cols | meta_cols
        ]
    else:
        keep = list(rules.keep)
        for name in keep:
            if name not in present:
                raise _missing(name, "context column to keep", f"columns are: {available}")
            if name in ident_cols:
                basis = next((f.detail for f in found if f.column == name), "respondent id")
                raise PrivacyError(
                    f"refusing to keep a column that identifies people ({basis})",
                    file=file, column=name,
                    hint="remove it from 'keep'; identifiers never reach processed data",
                )
            if name in answer_cols:
                raise CleaningError(
                    "a column to keep is also an item column", file=file, column=name,
                    hint="list context columns only in 'keep'",
                )
    dropped_ident = [f.column for f in found] + [respondent]
    audit.add(
        "privacy", "identifier columns removed",
        columns=dropped_ident,
        details="; ".join(
            [f"{f.column}: {f.detail} ({f.basis})" for f in found]
            + [f"{respondent}: respondent id, replaced by an HMAC-SHA256 pseudonym"]
        ),
    )

    # ---------------------------------------------------------------- pseudonyms
    # integer codes of the normalised ids: duplicates and matching compare integers.
    # While the answers are recoded and the rules run, the HMAC of every distinct id is
    # computed on another core (a helper process, stopped when anything below raises).
    id_code, id_uniques = keys.result()
    with HmacJob(id_uniques, secret) as hashing:
        # ---------------------------------------------------------------- recode
        # every item column is recoded into one 2-D block (rows x items); later steps work on
        # these arrays and the output frame is built once at the end
        # one column-major float array holds every number of the output, in its column
        # order: items, scores, retrospective items, retrospective scores; the kept rows
        # are moved to its top at the end and the output frame wraps it without a copy
        score_names = score_columns(inst)
        n_now, n_scores, n_retro = len(now_cols), len(score_names), len(retro_cols)
        numbers = np.empty(
            (n_raw, n_now + n_scores + ((n_retro + n_scores) if has_retro else 0)),
            dtype=float, order="F",
        )
        score_at = {name: n_now + k for k, name in enumerate(score_names)}
        score_at |= {name + retro: n_now + n_scores + n_retro + k
                     for k, name in enumerate(score_names)}
        block = recode_block(
            raw, now_cols, inst, na_values=rules.na_values, strict=rules.strict,
            file=file, row_offset=row_offset, out=numbers[:, :n_now],
        )
        blocks = [block]
        if has_retro:
            blocks.append(recode_block(
                raw, retro_cols, inst, na_values=rules.na_values, strict=rules.strict,
                file=file, row_offset=row_offset,
                out=numbers[:, n_now + n_scores : n_now + n_scores + n_retro],
            ))
        # ---------------------------------------------------------------- wave labels
        unknown: list[str] = []
        if wave is not None:
            codes, uniques = pd.factorize(raw[wave], use_na_sentinel=True)
            mapped = [rules.waves.get(_norm_label(u)) for u in uniques]
            wave_names = list(dict.fromkeys(m for m in mapped if m is not None))
            tidy = [wave_names.index(m) if m is not None else -1 for m in mapped]
            wave_code = np.array([*tidy, -1], dtype=np.int64)[codes]
            unknown = sorted({str(u) for u, m in zip(uniques, mapped, strict=True) if m is None})
        else:
            wave_names = [str(wave_value)]
            wave_code = np.zeros(n_raw, dtype=np.int64)
        bad_wave = wave_code < 0
        n_waves = len(wave_names)

        # cells of a column that is empty for a whole wave were not asked in that wave
        # (ICCAS: the retrospective block and item 21 in the true pretest)
        wave_sizes = np.bincount(wave_code + 1, minlength=n_waves + 1)[1:]
        raw_names: list[str] = []
        missing_counts: dict[str, int] = {}
        asked_counts: dict[str, int] = {}
        nonempty = wave_sizes[wave_sizes > 0]
        smallest = int(nonempty.min()) if nonempty.size else None
        for blk, cols in zip(blocks, (now_cols, retro_cols), strict=False):
            for j, item in enumerate(blk.items):
                name = cols[item]
                raw_names.append(name)
                n_missing = int(blk.count("missing")[j])
                not_asked = 0
                if smallest is not None and n_missing >= smallest:  # else no wave is all empty
                    empty = blk.classes[:, j] == CLASSES.index("missing")
                    per_wave = np.bincount(wave_code[empty] + 1, minlength=n_waves + 1)[1:]
                    not_asked = int(wave_sizes[(per_wave == wave_sizes) & (wave_sizes > 0)].sum())
                asked_counts[name] = not_asked
                missing_counts[name] = n_missing - not_asked
        audit.add("recode", "missing answer (empty cell)", cells_changed=sum(missing_counts.values()),
                  columns=[c for c, n in missing_counts.items() if n],
                  details=per_column(missing_counts))
        audit.add("recode", "not asked in this wave (column empty for the whole wave)",
                  cells_changed=sum(asked_counts.values()),
                  columns=[c for c, n in asked_counts.items() if n],
                  details=per_column(asked_counts))

        def _per_column(per_item: list[np.ndarray]) -> dict[str, int]:
            return dict(zip(raw_names, (int(v) for v in np.concatenate(per_item)), strict=True))

        for cls, reason in (
            ("na", "not applicable (N/A answer) set to missing"),
            ("range", f"outside the scale {inst.scale_min}-{inst.scale_max} "
                      "(set to missing, never clipped)"),
            ("text", "text that is neither a number nor a label (set to missing)"),
        ):
            counts = _per_column([blk.count(cls) for blk in blocks])
            audit.add(
                "recode", reason,
                cells_changed=sum(counts.values()),
                columns=[c for c, n in counts.items() if n],
                details=per_column(counts),
            )
        labels = _per_column([blk.labels for blk in blocks])
        langs = ", ".join(sorted(inst.labels)) or "none"
        audit.add(
            "recode", "label recoded to its scale point",
            cells_changed=sum(labels.values()),
            columns=[c for c, n in labels.items() if n],
            details=f"label languages: {langs}; " + per_column(labels),
        )
        commas = _per_column([blk.commas for blk in blocks])
        audit.add(
            "recode", "number with a decimal comma (e.g. 4,0) read as its scale point",
            cells_changed=sum(commas.values()),
            columns=[c for c, n in commas.items() if n],
            details=per_column(commas),
        )

        alive = np.ones(n_raw, dtype=bool)
        flags: dict[str, np.ndarray] = {}

        # ---------------------------------------------------------------- respondent
        no_id = id_code < 0
        audit.add("respondent", "missing respondent id", rows_dropped=int(no_id.sum()),
                  columns=[respondent])
        alive &= ~no_id

        # ---------------------------------------------------------------- wave
        if wave is not None:
            audit.add(
                "wave", "missing or unknown wave", rows_dropped=int((bad_wave & alive).sum()),
                columns=[wave],
                details=(
                    "mapping: " + ", ".join(f"{k}->{v}" for k, v in rules.waves.items())
                    + (f"; unknown values: {', '.join(unknown[:5])}" if unknown else "")
                ),
            )
            alive &= ~bad_wave
        else:
            audit.add("wave", "missing or unknown wave", details=f"every row is wave {wave_value!r}")

        values = block.values
        position = {item: j for j, item in enumerate(block.items)}
        scored = list(inst.scored_items)
        scored_idx = [position[i] for i in scored]
        all_scored = scored_idx == list(range(values.shape[1]))
        scored_vals = values if all_scored else values[:, scored_idx]
        # which cells are answered: computed once (reverse keying keeps the pattern)
        answered_cells = block.answered()
        answered_scored = _count_rows(answered_cells if all_scored else answered_cells[:, scored_idx])
        share = answered_scored / len(scored) if scored else np.zeros(n_raw)
        complete = share >= min_answered - 1e-12

        # ---------------------------------------------------------------- duplicates
        # one integer per (respondent, wave) of the live rows; rows are in a duplicate group
        # when their pair occurs more than once among the live rows
        pair = np.where(alive, id_code * max(n_waves, 1) + np.maximum(wave_code, 0), 0)
        in_group = alive & (np.bincount(pair[alive], minlength=1)[pair] > 1) if alive.any() else alive
        if rules.duplicates == "keep":
            dup = np.zeros(n_raw, dtype=bool)
            audit.add("duplicates", "duplicate submissions kept (policy 'keep')",
                      rows_flagged=int(in_group.sum()))
        else:
            # only rows in a duplicate group need their submission time parsed
            stamps = np.zeros(n_raw, dtype=np.int64)
            if stamp_col is not None and in_group.any():
                stamps[in_group] = _parse_timestamp(raw[stamp_col][in_group])
            dup = _duplicate_losers(
                np.flatnonzero(in_group), pair, stamps,
                complete if rules.duplicates == "latest_complete" else None,
                first=rules.duplicates == "first", n_rows=n_raw,
            )
            what = {
                "latest_complete": "kept the latest complete submission",
                "latest": "kept the latest submission",
                "first": "kept the first submission",
            }[rules.duplicates]
            audit.add(
                "duplicates", f"duplicate submission of respondent and wave ({what})",
                rows_dropped=int(dup.sum()), columns=[c for c in (stamp_col,) if c],
                details=f"ordered by {stamp_col or 'position in the file'}; complete = at least "
                f"{min_answered:.0%} of scored items answered",
            )
            alive &= ~dup

        # ---------------------------------------------------------------- speeders
        if rules.speeders != "off" and duration_col is not None:
            seconds = _parse_duration(raw[duration_col], file=file, column=duration_col,
                                      row_offset=row_offset)
            median = float(np.nanmedian(seconds)) if np.isfinite(seconds).any() else float("nan")
            if rules.speeder_seconds is not None:
                threshold = float(rules.speeder_seconds)
                how = f"duration < {threshold:g} s"
            else:
                threshold = rules.speeder_fraction * median
                how = f"duration < {rules.speeder_fraction:.3g} x median {median:.1f} s = {threshold:.1f} s"
            with np.errstate(invalid="ignore"):
                fast = seconds < threshold
            _apply(audit, "speeders", f"speeder ({how})", rules.speeders, fast, alive, flags,
                   "flag_speeder", [duration_col])
        else:
            why = "rule off" if rules.speeders == "off" else "no duration column"
            audit.add("speeders", f"speeder rule not applied ({why})")

        # ---------------------------------------------------------------- straight-lining
        if rules.straightlining != "off":
            need = rules.straightline_min_items or max(3, math.ceil(min_answered * len(scored)))
            answered = answered_scored
            lo = np.fmin.reduce(scored_vals, axis=1)  # ignores missing answers, no warnings
            hi = np.fmax.reduce(scored_vals, axis=1)
            straight = (answered >= need) & (lo == hi)
            _apply(audit, "straight-lining",
                   f"straight-lining (same answer to all of at least {need} answered items, "
                   "before reverse keying)",
                   rules.straightlining, straight, alive, flags, "flag_straightline",
                   [now_cols[i] for i in scored])
        else:
            audit.add("straight-lining", "straight-lining rule not applied (rule off)")

        # ---------------------------------------------------------------- too few answered
        few = ~complete
        _apply(audit, "too few answered",
               f"fewer than {min_answered:.0%} of the {len(scored)} scored items answered",
               rules.too_few, few, alive, flags, "flag_too_few", [])

        # ---------------------------------------------------------------- reverse keying
        # in place on the blocks: the answers before reverse keying are not needed any more
        rev = [i for i in inst.reverse if i in position]
        n_rev = 0
        for blk in blocks:
            for col_idx in [k for k, item in enumerate(blk.items) if item in rev]:
                column = blk.values[:, col_idx]
                n_rev += int(np.count_nonzero(~np.isnan(column) & alive))
                np.subtract(inst.scale_min + inst.scale_max, column, out=column)
        audit.add(
            "reverse keying", f"reverse-keyed ({inst.scale_min} + {inst.scale_max} - x)",
            cells_changed=n_rev, columns=rev + [i + retro for i in rev if has_retro and i in retro_cols],
        )

        # ---------------------------------------------------------------- scores
        scores: dict[str, np.ndarray] = {}
        groups = {name: list(items) for name, items in inst.subscales.items()}
        if inst.total is not None:
            groups[inst.total] = scored
        na_scores: dict[str, int] = {}
        for blk, suffix in zip(blocks, ("", retro), strict=False):
            if blk is not block:
                answered_cells = blk.answered()
            where = {item: j for j, item in enumerate(blk.items)}
            # a block (the ratings or the retrospective ratings) left wholly empty is not
            # counted: its scores are missing because nothing was asked or answered
            block_answered = answered_cells.any(axis=1)
            sums_of: dict[str, tuple[list[int], np.ndarray, np.ndarray]] = {}
            for name in score_names:
                group_cols = [where[i] for i in groups[name] if i in where]
                parts = [sums_of[sub] for sub in inst.subscales if sub in sums_of]
                if name == inst.total and parts and sorted(group_cols) == sorted(
                    j for part in parts for j in part[0]
                ):
                    # the subscales split the total's items: add their sums and counts
                    # (answers are whole scale points, so the sums are exact in any order)
                    group_sums = parts[0][1].copy()
                    group_counts = parts[0][2].astype(np.int64)
                    for _, part_sums, part_counts in parts[1:]:
                        group_sums += part_sums
                        group_counts += part_counts
                else:
                    group_sums, group_counts = _group_sums(blk.values, answered_cells, group_cols,
                                                           inst.scale_min)
                sums_of[name] = (group_cols, group_sums, group_counts)
                score = _group_score(group_sums, group_counts, len(groups[name]), min_answered)
                column = numbers[:, score_at[name + suffix]]
                np.copyto(column, score)
                scores[name + suffix] = column
                na_scores[name + suffix] = int((np.isnan(score) & block_answered & alive).sum())
        audit.add(
            "scores", f"score missing: fewer than {min_answered:.0%} of its items answered "
            "(rows with an empty block not counted)",
            cells_changed=sum(na_scores.values()),
            columns=[c for c, n in na_scores.items() if n],
            details=per_column(na_scores),
        )

        # ---------------------------------------------------------------- waves
        live_ids = id_code[alive]
        live_waves = wave_code[alive]
        seen_waves = np.flatnonzero(np.bincount(live_waves, minlength=n_waves))
        expected = len(seen_waves)
        in_wave = np.zeros((len(id_uniques), max(n_waves, 1)), dtype=bool)
        in_wave[live_ids, live_waves] = True
        per_id = in_wave.sum(axis=1)
        unmatched_id = (per_id > 0) & (per_id < expected)
        unmatched = alive & unmatched_id[np.maximum(id_code, 0)]
        n_resp = int(np.count_nonzero(per_id))
        wave_list = ", ".join(sorted(wave_names[w] for w in seen_waves))
        if rules.drop_unmatched:
            audit.add("waves", f"respondent not in all {expected} waves (dropped)",
                      rows_dropped=int(unmatched.sum()),
                      details=f"{int(unmatched_id.sum())} of {n_resp} respondents unmatched; "
                      f"waves: {wave_list}")
            alive &= ~unmatched
            matched = np.ones(n_raw, dtype=bool)
        else:
            audit.add("waves", f"respondent not in all {expected} waves (flagged: matched = False)",
                      rows_flagged=int(unmatched.sum()),
                      details=f"{int(unmatched_id.sum())} of {n_resp} respondents unmatched; "
                      f"waves: {wave_list}")
            matched = ~unmatched
        if has_retro and inst.total is not None:
            post = wave_code == wave_names.index("post") if "post" in wave_names else np.zeros_like(alive)
            no_retro = alive & np.isnan(scores[inst.total + retro]) & post
            audit.add("waves", "post wave without a retrospective pre score (flagged)",
                      rows_flagged=int(no_retro.sum()), columns=[inst.total + retro])

        # ---------------------------------------------------------------- assemble
        idx = np.flatnonzero(alive)
        kept_ids = id_code[idx]
        used = np.zeros(len(id_uniques), dtype=bool)
        used[kept_ids] = True
        front: dict[str, Any] = {
            "wave": _str_series(pa.array(wave_names or [""], type=pa.large_string())
                                .take(pa.array(wave_code[idx]))),
        }
        context_names: list[str] = []
        reserved = {"respondent", "wave", "matched", *inst.items, *scores, *flags}
        reserved |= {i + retro for i in retro_cols}
        for name in keep:
            target = renames.get(name, name)
            if target in reserved or target in front:
                raise CleaningError(
                    f"context column would be named {target!r}, which is taken", file=file,
                    column=name, hint="rename it with the column mapping",
                )
            front[target] = _kept_rows(raw[name], idx, alive)
            context_names.append(target)
        names = [*block.items, *score_names]
        if has_retro:
            names += [item + retro for item in blocks[1].items]
            names += [name + retro for name in score_names]

        def compact() -> None:
            # the kept rows to the top, column by column, in place: idx rises and
            # idx[i] >= i, so a row is read before anything is written over it
            if len(idx) == n_raw:
                return
            for j in range(numbers.shape[1]):
                column = numbers[:, j]
                for start in range(0, len(idx), _PIECE_ROWS):
                    part = idx[start : start + _PIECE_ROWS]
                    column[start : start + len(part)] = column[part]

        # the numbers are compacted in a thread (numpy releases the GIL) while this one
        # collects the pseudonyms: the helper process has had all the time above, and
        # they are gathered from the table of every distinct id straight into Arrow strings
        filler = ThreadPoolExecutor(1, thread_name_prefix="ipo-fill")
        filled = filler.submit(compact)
        filler.shutdown(wait=False)
        pseudonyms = pseudonym_series(hashing.result(), kept_ids)
        filled.result()
        floats = numbers[: len(idx)]
        data = pd.DataFrame(floats, columns=names, copy=False)
        front = {"respondent": pseudonyms, **front}
        for pos, (name, column) in enumerate(front.items()):
            data.insert(pos, name, column)
        for name, mask in flags.items():
            data[name] = mask[idx]
        data["matched"] = matched[idx]

        # a last guard: no kept context column may hold identifiers by content
        for name in context_names:
            detail = identifier_by_content(data[name])
            if detail is not None:  # pragma: no cover - find_identifiers saw the same values
                raise PrivacyError(f"context column holds {detail}", file=file, column=name)

        schema = schema_for(
            inst, context=context_names, retro_suffix=retro if has_retro else None,
            retro_items=list(retro_cols),
            flags=list(flags),
            waves=[*rules.waves.values(), *([str(wave_value)] if wave is None else [])],
        )
        validate(data, schema, file=file)
        frame = audit.frame()
        if int(frame["rows_dropped"].sum()) + len(data) != n_raw:  # pragma: no cover - invariant
            raise CleaningError("audit does not add up", file=file, hint="report this as a bug")
        provenance = {
            "source": file,
            "instrument": inst.name,
            "instrument_source": getattr(inst, "source", None),
            "rows_raw": n_raw,
            "rows_kept": len(data),
            "respondents": int(np.count_nonzero(used)),  # distinct ids kept = pseudonyms
            "waves": sorted(wave_names[w] for w in
                             np.flatnonzero(np.bincount(wave_code[idx], minlength=n_waves))),
            "respondent_column": respondent,
            "wave_column": wave,
            "columns": {**{v: k for k, v in now_cols.items()},
                        **{v: k + retro for k, v in retro_cols.items()}},
            "kept": context_names,
            "min_answered": min_answered,
            "rules": rules.as_dict(),
        }
        return CleaningResult(data=data, audit=frame, provenance=provenance)


def _apply(
    audit: AuditTrail,
    step: str,
    reason: str,
    action: str,
    hit: np.ndarray,
    alive: np.ndarray,
    flags: dict[str, np.ndarray],
    flag_name: str,
    columns: list[str],
) -> None:
    """Drop or flag the live rows in ``hit`` and record it (in place on ``alive``)."""
    live_hits = hit & alive
    if action == "drop":
        audit.add(step, reason + " (dropped)", rows_dropped=int(live_hits.sum()),
                  columns=columns)
        alive &= ~hit
    else:
        audit.add(step, reason + " (flagged)", rows_flagged=int(live_hits.sum()),
                  columns=columns)
        flags[flag_name] = hit.copy()
