"""Small-cell suppression: publish nothing computed from too few respondents.

Rules
-----
1. **Minimum.**  Nothing (count, mean, percentage, effect size, figure) is published for a
   group of fewer than ``min_n`` respondents.  The default is 10
   (:data:`~ipo_research.present.labels.DEFAULT_MIN_N`), the threshold many statistics
   offices use; Dutch education benchmarks use 5.  The minimum is a parameter everywhere,
   so a report plan can choose (never below 1).  A count of 0 is treated like any
   other count below the minimum.
2. **Primary suppression.**  Every statistic in a row whose count is below ``min_n``
   (or missing) is blanked (set to missing), and the row is marked with an explanation.
3. **Secondary (complementary) suppression.**  A table with margins (rows whose key is a
   total label such as ``"Totaal"``) links its cells: parts + margin form a group, and the
   margin is the sum of its parts (counts; for means, the n-weighted sum).  If exactly
   one cell of such a group is blanked, it can be recovered by subtraction, so a second
   cell is blanked too: the published part with the smallest count, or the margin itself
   when no part is left.  Groups are formed along every key column that carries a total
   label (a two-way table with row and column margins is checked both ways), and the
   check repeats until no group has exactly one blanked cell.
4. Cells are never removed, only blanked, so readers see that something was suppressed
   and why (the ``suppression`` column, and the note of :func:`~ipo_research.present.apa.apa_table`).

What suppression cannot see: totals published in *another* table.  Put the margins that
will be published in the same table, so that rule 3 can protect them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import numpy as np
import pandas as pd

from ipo_research.errors import PresentationError
from ipo_research.present.labels import DEFAULT_MIN_N, check_lang, text

__all__ = [
    "DEFAULT_MIN_N",
    "TOTAL_LABELS",
    "check_min_n",
    "is_publishable",
    "suppress_crosstab",
    "suppress_table",
    "suppression_note",
]

#: Key values that mark a margin row (pandas' ``pivot_table(margins=True)`` uses "All").
TOTAL_LABELS: tuple[str, ...] = ("Totaal", "Total", "All", "Alle", "Overall")

SUPPRESSION_COLUMN = "suppression"


def check_min_n(min_n: object, *, parameter: str = "min_n") -> int:
    """Return ``min_n`` as an int if it is a valid minimum (a whole number >= 1).

    Raises
    ------
    PresentationError
        If ``min_n`` is not a whole number of at least 1.
    """
    if isinstance(min_n, bool) or not isinstance(min_n, int | np.integer) or int(min_n) < 1:
        raise PresentationError(
            f"{parameter} must be a whole number >= 1, got {min_n!r}",
            context={"parameter": parameter},
            hint="use 10 (statistics offices, the default) or 5 (Dutch education benchmarks)",
        )
    return int(min_n)


def is_publishable(n: object, min_n: int = DEFAULT_MIN_N) -> bool:
    """Whether a statistic computed from ``n`` respondents may be published.

    A missing ``n`` is not publishable.

    Examples
    --------
    >>> is_publishable(12), is_publishable(9), is_publishable(5, min_n=5), is_publishable(None)
    (True, False, True, False)
    """
    threshold = check_min_n(min_n)
    if n is None:
        return False
    try:
        if bool(pd.isna(cast(Any, n))):
            return False
        return float(n) >= threshold  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise PresentationError(
            f"n must be a number, got {n!r}", hint="pass the count of respondents"
        ) from exc


def suppression_note(min_n: int = DEFAULT_MIN_N, lang: str = "nl", *, marker: str = "x =") -> str:
    """The sentence that explains suppressed cells below a table.

    Examples
    --------
    >>> suppression_note(10, "en").startswith("x = Suppressed")
    True
    """
    return text("suppressed_note", check_lang(lang), marker=marker, min_n=check_min_n(min_n))


def _is_total(values: pd.Series, totals: Sequence[str]) -> pd.Series:
    return values.astype("string").isin(list(totals)).fillna(False).astype(bool)


def suppress_table(
    data: pd.DataFrame,
    count_col: str = "n",
    min_n: int = DEFAULT_MIN_N,
    *,
    keys: Sequence[str] | None = None,
    stat_cols: Sequence[str] | None = None,
    total_labels: Sequence[str] = TOTAL_LABELS,
    secondary: bool = True,
    lang: str = "nl",
) -> pd.DataFrame:
    """Blank every statistic computed from fewer than ``min_n`` respondents.

    See the module docstring for the rules (primary and secondary suppression).

    Parameters
    ----------
    data
        Long table, one row per group (cell), with a count column and statistics, and
        optionally margin rows whose key value is a total label.  A non-default index is
        treated as key columns.
    count_col
        Column with the number of respondents behind each row.
    min_n
        Minimum number of respondents (default 10).
    keys
        Columns that identify a row (group variables).  Default: every non-numeric
        column.
    stat_cols
        Columns to blank.  Default: every numeric column except the keys (the count
        column included).
    total_labels
        Key values that mark margin rows.
    secondary
        Apply secondary suppression (default ``True``).
    lang
        Language of the explanation in the ``suppression`` column.

    Returns
    -------
    pandas.DataFrame
        A copy of ``data`` with the statistics of suppressed rows set to missing and a
        column ``suppression``: ``""`` when published, else the reason
        ("onderdrukt: minder dan 10 respondenten" / "onderdrukt: anders herleidbaar uit
        een totaal").

    Raises
    ------
    PresentationError
        If a named column is missing, the count column is not numeric, or ``min_n`` is
        invalid.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"niveau": ["mbo", "hbo", "Totaal"], "n": [25, 4, 29],
    ...                   "mean": [3.4, 3.9, 3.47]})
    >>> suppress_table(t, "n")["n"].tolist()
    [nan, nan, 29.0]
    """
    threshold = check_min_n(min_n)
    language = check_lang(lang)
    if not isinstance(data, pd.DataFrame):
        raise PresentationError(
            f"data must be a DataFrame, got {type(data).__name__}", context={"parameter": "data"}
        )
    restore_index: list[str] | None = None
    frame = data.copy()
    if not (isinstance(frame.index, pd.RangeIndex) and frame.index.name is None):
        restore_index = [
            str(n) if n is not None else f"level_{i}" for i, n in enumerate(frame.index.names)
        ]
        frame.index.names = restore_index
        frame = frame.reset_index()
    if count_col not in frame.columns:
        raise PresentationError(
            f"count column {count_col!r} not found",
            column=count_col,
            context={"parameter": "count_col"},
            hint=f"columns are: {', '.join(map(str, frame.columns))}",
        )
    counts = pd.to_numeric(frame[count_col], errors="coerce")
    if counts.isna().all() and frame[count_col].notna().any():
        raise PresentationError(
            f"count column {count_col!r} holds no numbers",
            column=count_col,
            hint="pass the column with the number of respondents per group",
        )
    if keys is None:
        keys = [
            str(c)
            for c in frame.columns
            if c != count_col and not pd.api.types.is_numeric_dtype(frame[c].dtype)
        ]
    if stat_cols is None:
        stat_cols = [
            str(c)
            for c in frame.columns
            if c not in keys
            and c != SUPPRESSION_COLUMN
            and pd.api.types.is_numeric_dtype(frame[c].dtype)
        ]
    for name, group in (("keys", keys), ("stat_cols", stat_cols)):
        missing = [c for c in group if c not in frame.columns]
        if missing:
            raise PresentationError(
                f"{name} name columns that are not in the table: {', '.join(missing)}",
                column=missing[0],
                context={"parameter": name},
                hint=f"columns are: {', '.join(map(str, frame.columns))}",
            )

    primary = (counts.isna() | (counts < threshold)).to_numpy()
    hidden = primary.copy()
    if secondary:
        hidden = _secondary(frame, counts, hidden, list(keys), total_labels)

    reasons = np.where(
        primary,
        text("suppressed_primary", language, min_n=threshold),
        np.where(hidden, text("suppressed_secondary", language), ""),
    )
    for col in stat_cols:
        if not pd.api.types.is_float_dtype(frame[col].dtype):
            frame[col] = frame[col].astype("float64")
        frame.loc[hidden, col] = np.nan
    frame[SUPPRESSION_COLUMN] = pd.array(reasons, dtype="string")
    if restore_index is not None:
        frame = frame.set_index(restore_index)
        frame.index.names = list(data.index.names)
    return frame


def _secondary(
    frame: pd.DataFrame,
    counts: pd.Series,
    hidden: np.ndarray,
    keys: list[str],
    total_labels: Sequence[str],
) -> np.ndarray:
    """Add complementary suppressions until no margin group has exactly one hidden cell."""
    hidden = hidden.copy()
    order = np.arange(len(frame))
    margin_cols = [c for c in keys if _is_total(frame[c], total_labels).any()]
    groups: list[tuple[np.ndarray, int]] = []
    for col in margin_cols:
        others = [c for c in keys if c != col]
        is_total = _is_total(frame[col], total_labels).to_numpy()
        if others:
            labels = frame[others].astype("string").fillna("\x00<NA>").agg("\x1f".join, axis=1)
        else:
            labels = pd.Series("", index=frame.index)
        for _, positions in pd.Series(order, index=frame.index).groupby(labels.to_numpy()):
            pos = positions.to_numpy()
            margins = pos[is_total[pos]]
            parts = pos[~is_total[pos]]
            if len(margins) == 1 and len(parts) > 0:
                groups.append((parts, int(margins[0])))
    values = counts.to_numpy(dtype="float64", na_value=np.nan)
    changed = True
    while changed:
        changed = False
        for parts, margin in groups:
            cells = np.append(parts, margin)
            if int(hidden[cells].sum()) != 1:
                continue
            candidates = [p for p in parts if not hidden[p]]
            if candidates:
                smallest = min(candidates, key=lambda p: (values[p], p))
                hidden[smallest] = True
            else:
                hidden[margin] = True
            changed = True
    return hidden


def suppress_crosstab(
    counts: pd.DataFrame,
    min_n: int = DEFAULT_MIN_N,
    *,
    total_labels: Sequence[str] = TOTAL_LABELS,
    secondary: bool = True,
) -> pd.DataFrame:
    """Suppress a two-way table of counts (e.g. ``pd.crosstab(..., margins=True)``).

    Cells below ``min_n`` become missing; with margins (a row and/or column whose label
    is a total label) secondary suppression keeps them from being recovered.

    Parameters
    ----------
    counts
        Wide table of counts, row and column labels as group values.
    min_n, total_labels, secondary
        As in :func:`suppress_table`.

    Returns
    -------
    pandas.DataFrame
        The same shape as ``counts`` (float), suppressed cells missing.

    Examples
    --------
    >>> import pandas as pd
    >>> ct = pd.DataFrame({"mbo": [20, 3, 23], "hbo": [15, 30, 45], "Totaal": [35, 33, 68]},
    ...                   index=["Zwolle", "Deventer", "Totaal"])
    >>> int(suppress_crosstab(ct).isna().sum().sum())
    4
    """
    if not isinstance(counts, pd.DataFrame):
        raise PresentationError(
            f"counts must be a DataFrame, got {type(counts).__name__}",
            context={"parameter": "counts"},
        )
    wide = counts.copy()
    wide.index = wide.index.astype("string")
    wide.columns = wide.columns.astype("string")
    wide = wide.rename_axis(index="_row", columns="_col")
    stacked = cast(pd.Series, wide.stack())  # keeps missing cells (pandas >= 3)
    long = stacked.rename("_n").reset_index()
    result = suppress_table(
        long,
        "_n",
        min_n,
        keys=["_row", "_col"],
        stat_cols=["_n"],
        total_labels=total_labels,
        secondary=secondary,
    )
    out = result.pivot(index="_row", columns="_col", values="_n")
    out = out.reindex(index=wide.index, columns=wide.columns)
    out.index = counts.index
    out.columns = counts.columns
    return out.astype("float64")
