"""Small helpers that report notebooks call, so that the notebooks stay thin.

Three groups:

* **display** (the only functions here with a side effect: they call IPython's
  ``display``): :func:`page_style`, :func:`heading`, :func:`say`, :func:`show` and
  :func:`record`;
* **data for a report** (pure): :func:`select`, :func:`pre_post`, :func:`change_by`,
  :func:`response_counts`, :func:`score_descriptives`, :func:`scale_reliability`;
* **tables** (pure): :func:`count_table` turns suppressed counts into an
  :class:`~ipo_research.present.apa.ApaTable`.

Recorded values
---------------
:func:`record` puts key results (``n``, ``alpha``, ``mean_diff``, ``d_z``...) into the
notebook's output as a display with the MIME type :data:`RECORD_MIME` and nothing else.
JupyterLab and the HTML export ignore it (no renderer), while tests and audits read it
back with :func:`read_records`.  Values are full precision; nothing identifying is
recorded (the notebook decides what to record, and records only what it may show or
the flags that say why something was not shown).
"""

from __future__ import annotations

import contextlib
import html
import json
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ipo_research.errors import AnalysisError, PresentationError, ReportError
from ipo_research.present.apa import NA, SUPPRESSED, ApaTable, apa_css, fmt_int
from ipo_research.present.labels import DEFAULT_MIN_N, check_lang, text
from ipo_research.present.suppress import (
    check_min_n,
    suppress_crosstab,
    suppress_table,
    suppression_note,
)

if TYPE_CHECKING:  # pragma: no cover
    from ipo_research.analysis import ReliabilityResult
    from ipo_research.instruments.model import Instrument

__all__ = [
    "ALL",
    "RECORD_MIME",
    "change_by",
    "count_table",
    "heading",
    "page_style",
    "pre_post",
    "read_records",
    "record",
    "response_counts",
    "say",
    "scale_reliability",
    "score_descriptives",
    "select",
    "show",
]

#: MIME type of recorded values (ignored by JupyterLab and the HTML exporter).
RECORD_MIME = "application/vnd.ipo-research.record+json"
#: Parameter values that mean "no filter" in :func:`select`.
ALL: tuple[str, ...] = ("alle", "all", "*")

#: Count columns of :func:`response_counts`, labelled by :func:`count_table`.
_WAVES = ("pre", "post", "both")


def _require_columns(data: pd.DataFrame, columns: Sequence[str], parameter: str = "") -> None:
    """Raise :class:`ReportError` naming the first of ``columns`` missing from ``data``."""
    missing = [c for c in columns if c not in data.columns]
    if missing:
        raise ReportError(f"the data have no column {missing[0]!r}", column=missing[0],
                          context={"parameter": parameter} if parameter else {},
                          hint=f"columns are: {', '.join(map(str, data.columns))}")


# =========================================================================== display
def _display(obj: Any, **kwargs: Any) -> None:
    from IPython.display import display

    display(obj, **kwargs)


def _html(markup: str) -> None:
    from IPython.display import HTML

    _display(HTML(markup))


def page_style() -> None:
    """Display the stylesheet of the APA tables (call once, at the top of a report)."""
    _html(f"<style>{apa_css()}</style>")


def heading(title: str, level: int = 2) -> None:
    """Display a heading (``level`` 1-4) whose text comes from the report's parameters."""
    if level not in (1, 2, 3, 4):
        raise PresentationError(f"heading level must be 1-4, got {level!r}",
                                context={"parameter": "level"})
    _html(f"<h{level}>{html.escape(title)}</h{level}>")


def say(*paragraphs: str) -> None:
    """Display sentences as paragraphs (escaped: no markup from data reaches the page)."""
    _html("".join(f"<p>{html.escape(p)}</p>" for p in paragraphs if p))


def show(obj: Any, *, caption: str | None = None, number: int | None = None) -> None:
    """Display an APA table, a figure or a DataFrame as self-contained HTML.

    Parameters
    ----------
    obj
        An :class:`~ipo_research.present.apa.ApaTable`, a matplotlib ``Figure`` (embedded
        as PNG with its alt text) or a DataFrame of already formatted text.
    caption
        Figure caption ("Figuur 1. ...").
    number
        Table number to show, for an ApaTable without one.

    Raises
    ------
    PresentationError
        For any other kind of object.
    """
    from matplotlib.figure import Figure

    if isinstance(obj, ApaTable):
        table = obj if number is None else ApaTable(**{**obj.__dict__, "number": number})
        _html(table.to_html())
    elif isinstance(obj, Figure):
        from ipo_research.present.figures import figure_html

        _html(figure_html(obj, caption=caption))
    elif isinstance(obj, pd.DataFrame):
        _html(obj.to_html(index=False, escape=True, na_rep=NA))
    else:
        raise PresentationError(
            f"cannot show a {type(obj).__name__}", context={"parameter": "obj"},
            hint="pass an ApaTable (present.apa_table), a Figure or a DataFrame",
        )


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if value is pd.NA or value is pd.NaT:
        return None
    raise PresentationError(
        f"cannot record a value of type {type(value).__name__}",
        hint="record numbers, text, booleans, or lists and mappings of them",
    )


def record(**values: Any) -> None:
    """Record named values in the notebook's output for tests and audits (not shown).

    Non-finite numbers are recorded as ``null``.

    Examples
    --------
    In a notebook cell (an output that only tests and audits read)::

        record(n=212, d_z=0.52)
    """
    if not values:
        raise PresentationError("record() needs at least one name=value",
                                hint="e.g. record(n=212, d_z=0.52)")
    # the empty HTML keeps JupyterLab and nbconvert from reporting an unknown MIME type
    _display({"text/html": "", RECORD_MIME: _jsonable(values)}, raw=True)


def read_records(notebook: Any) -> dict[str, Any]:
    """Collect the values recorded by :func:`record` in an executed notebook.

    Parameters
    ----------
    notebook
        A path to an ``.ipynb`` file or a notebook (``nbformat.NotebookNode`` or dict).

    Returns
    -------
    dict
        Name -> value, over all cells in order.

    Raises
    ------
    ReportError
        When the notebook cannot be read or two records use the same name.
    """
    if isinstance(notebook, str | os.PathLike):
        try:
            notebook = json.loads(Path(notebook).read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            raise ReportError("cannot read the executed notebook", file=str(notebook),
                              hint="pass an executed .ipynb file") from err
    found: dict[str, Any] = {}
    for index, cell in enumerate(notebook.get("cells", [])):
        for output in cell.get("outputs", []) if cell.get("cell_type") == "code" else []:
            data = output.get("data", {})
            if RECORD_MIME not in data:
                continue
            payload = data[RECORD_MIME]
            if isinstance(payload, str):
                payload = json.loads(payload)
            for name, value in payload.items():
                if name in found:
                    raise ReportError(f"the value {name!r} is recorded twice",
                                      context={"cell": index},
                                      hint="record every name once per report")
                found[name] = value
    return found


# =========================================================================== data
def select(data: pd.DataFrame, **criteria: Any) -> pd.DataFrame:
    """Rows of ``data`` whose columns equal the given values; ``"alle"`` means any.

    Parameters
    ----------
    data
        Processed data (:func:`ipo_research.io.read_processed`).
    **criteria
        Column name -> value.  ``None`` or one of :data:`ALL` (``"alle"``, ``"all"``,
        ``"*"``) does not filter.

    Raises
    ------
    ReportError
        When a column is missing or no row is left (the message names the filter and the
        values that exist).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"Regio": ["Zwolle", "Deventer"], "x": [1, 2]})
    >>> select(df, Regio="Zwolle")["x"].tolist(), len(select(df, Regio="alle"))
    ([1], 2)
    """
    mask = pd.Series(True, index=data.index)
    for column, value in criteria.items():
        if value is None or (isinstance(value, str) and value.casefold() in ALL):
            continue
        _require_columns(data, [column])
        mask &= (data[column].astype("object") == value).fillna(False).astype(bool)
        if not mask.any():
            present = sorted(str(v) for v in data[column].dropna().unique())
            raise ReportError(
                f"no rows with {column} = {value!r}", column=column,
                context={"parameter": column},
                hint=f"values found: {', '.join(present[:20]) or 'none'}, or 'alle'",
            )
    return data.loc[mask].reset_index(drop=True)


def pre_post(
    data: pd.DataFrame,
    score: str,
    *,
    then: str | None = None,
    respondent: str = "respondent",
    wave: str = "wave",
    context: Sequence[str] = ("Regio", "Instelling", "Opleiding", "Niveau", "Cohort",
                              "Leerteam"),
) -> pd.DataFrame:
    """One row per respondent with the score at the pretest and the posttest.

    Parameters
    ----------
    data
        Long data, one row per respondent and wave (``wave`` values ``pre``/``post``).
    score
        Score column (``"total"`` or a subscale).
    then
        Retrospective-pretest column on the posttest row (ICCAS: ``"total_before"``);
        becomes column ``then``.
    respondent, wave
        Column names.
    context
        Columns carried over (the value of the first wave that has one).

    Returns
    -------
    pandas.DataFrame
        Columns ``pre``, ``post`` (missing when that wave is absent), ``then`` when asked
        for, and the context columns present; a fresh RangeIndex (no respondent ids).

    Raises
    ------
    ReportError
        When a named column is missing.
    """
    _require_columns(data, [respondent, wave, score, *([then] if then else [])])
    waves = data[wave].astype("object")
    scores = (data.assign(_wave=waves).pivot_table(index=respondent, columns="_wave",
                                                    values=score, aggfunc="first",
                                                    dropna=False, observed=True))
    wide = pd.DataFrame(index=pd.Index(pd.unique(data[respondent]), name=respondent))
    for name in ("pre", "post"):
        wide[name] = scores[name] if name in scores.columns else np.nan
    if then:
        post_rows = data.loc[waves == "post"].drop_duplicates(respondent)
        wide["then"] = post_rows.set_index(respondent)[then]
    kept = [c for c in context if c in data.columns]
    if kept:
        ordered = data.assign(_order=waves.map({"pre": 0, "post": 1}).fillna(2))
        first = (ordered.sort_values("_order", kind="stable").groupby(respondent, sort=False)
                 [kept].first())
        wide = wide.join(first)
        for column in kept:
            if isinstance(data[column].dtype, pd.CategoricalDtype):
                wide[column] = pd.Categorical(wide[column],
                                              categories=data[column].cat.categories)
    return wide.reset_index(drop=True)


def change_by(
    wide: pd.DataFrame,
    by: str | None,
    *,
    pre: str = "pre",
    post: str = "post",
    min_n: int = DEFAULT_MIN_N,
    lang: str = "nl",
    total: bool = True,
) -> pd.DataFrame:
    """Paired change per group, with a total row, small groups suppressed.

    Calls :func:`ipo_research.analysis.paired_change` for every group with at least
    ``min_n`` complete pairs; smaller groups get only their count, which
    :func:`~ipo_research.present.suppress.suppress_table` then blanks (with secondary
    suppression against the total row).

    Parameters
    ----------
    wide
        One row per respondent (:func:`pre_post`).
    by
        Grouping column, or ``None`` for the total only.
    pre, post
        Measurement columns.
    min_n
        Minimum number of complete pairs to publish a group.
    lang
        Language of the total label and the suppression reasons.
    total
        Add a total row (label ``"Totaal"``/``"Total"``).

    Returns
    -------
    pandas.DataFrame
        Indexed by group (index name ``by``, or ``""`` for the total only), the columns of
        ``paired_change`` and ``suppression`` (empty when published).
    """
    from ipo_research.analysis import paired_change
    from ipo_research.analysis.change import PAIRED_COLUMNS

    language = check_lang(lang)
    threshold = check_min_n(min_n)
    complete = wide.dropna(subset=[pre, post])
    groups: list[tuple[str, pd.DataFrame]] = []
    if by is not None:
        _require_columns(wide, [by], "by")
        for value, part in complete.groupby(by, sort=True, observed=True):
            groups.append((str(value), part))
    if total or by is None:
        groups.append((text("total", language), complete))
    rows: list[dict[str, Any]] = []
    for label, part in groups:
        row: dict[str, Any] = {"group": label, "n": len(part)}
        if len(part) >= threshold:
            # e.g. all differences equal: nothing to report beyond the count
            with contextlib.suppress(AnalysisError):
                stats = paired_change(part, pre, post).iloc[0]
                row.update({str(k): v for k, v in stats.items()})
        rows.append(row)
    table = pd.DataFrame(rows, columns=["group", "n", *PAIRED_COLUMNS[1:]]).set_index("group")
    table.index.name = by or ""
    stat_cols = [c for c in table.columns if c != "n"]
    table[stat_cols] = table[stat_cols].astype("float64")
    return suppress_table(table, "n", threshold, lang=language)


def response_counts(
    data: pd.DataFrame,
    by: str,
    *,
    respondent: str = "respondent",
    wave: str = "wave",
    min_n: int = DEFAULT_MIN_N,
    lang: str = "nl",
) -> pd.DataFrame:
    """Respondents per group and wave (and in both waves), with totals, suppressed.

    Returns
    -------
    pandas.DataFrame
        Rows: the groups of ``by`` and a total row; columns ``pre``, ``post``, ``both``
        (float counts, missing where suppressed by
        :func:`~ipo_research.present.suppress.suppress_crosstab`).
    """
    language = check_lang(lang)
    threshold = check_min_n(min_n)
    _require_columns(data, [by], "by")
    waves = data[wave].astype("object")
    per = data.assign(_wave=waves).groupby([respondent]).agg(
        group=(by, "first"), pre=("_wave", lambda w: bool((w == "pre").any())),
        post=("_wave", lambda w: bool((w == "post").any())))
    per["both"] = per["pre"] & per["post"]
    counts = per.groupby("group", sort=True, observed=True)[["pre", "post", "both"]].sum()
    counts.index = counts.index.astype(str)
    counts.loc[text("total", language)] = counts.sum()
    counts = counts.astype("float64")
    suppressed = suppress_crosstab(counts[["pre", "post"]], threshold)
    both = suppress_table(counts[["both"]].rename(columns={"both": "n"}), "n", threshold,
                          lang=language)["n"]
    suppressed["both"] = both.to_numpy()
    suppressed.index.name = by
    suppressed.columns = pd.Index(["pre", "post", "both"])
    return suppressed


def count_table(
    counts: pd.DataFrame,
    *,
    title: str,
    lang: str = "nl",
    min_n: int = DEFAULT_MIN_N,
    number: int | None = None,
    row_header: str | None = None,
    column_labels: Mapping[str, str] | None = None,
) -> ApaTable:
    """An APA table of counts whose missing cells are suppressed (marked ``x``).

    Parameters
    ----------
    counts
        Counts as :func:`response_counts` returns them (missing = suppressed).
    title
        Table title.
    lang, min_n, number
        Language, the minimum used for suppression (for the note), table number.
    row_header
        Header of the row-label column (default: the index name).
    column_labels
        Display names of the columns (``pre`` -> "Voormeting" by default).
    """
    language = check_lang(lang)
    labels = {k: text(k, language) for k in _WAVES} | dict(column_labels or {})
    header = row_header or str(counts.index.name or text("group", language))
    body: dict[str, list[str]] = {header: [str(v) for v in counts.index]}
    hidden = False
    for column in counts.columns:
        cells = []
        for value in counts[column]:
            if pd.isna(value):
                cells.append(SUPPRESSED)
                hidden = True
            else:
                cells.append(fmt_int(value, lang=language))
        body[labels.get(str(column), str(column))] = cells
    note = text("note_counts", language)
    if hidden:
        note += " " + suppression_note(check_min_n(min_n), language)
    return ApaTable(frame=pd.DataFrame(body, dtype=object), title=title, note=note,
                    number=number, lang=language, kind="generic",
                    headers=tuple(((h, ""),) for h in body), row_header=True)


def score_descriptives(
    data: pd.DataFrame,
    scales: Iterable[str],
    *,
    wave: str = "wave",
    min_n: int = DEFAULT_MIN_N,
    lang: str = "nl",
    labels: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """n, mean and SD of each scale score per wave, small cells suppressed.

    Returns
    -------
    pandas.DataFrame
        Index ``scale`` ("totaalscore, voormeting"...), columns ``n``, ``mean``, ``sd`` and
        ``suppression`` (ready for :func:`~ipo_research.present.apa.apa_table`).
    """
    language = check_lang(lang)
    threshold = check_min_n(min_n)
    rows = []
    waves = data[wave].astype("object")
    for scale in scales:
        for name in ("pre", "post"):
            values = pd.to_numeric(data.loc[waves == name, scale], errors="coerce").dropna()
            label = (labels or {}).get(scale, scale)
            rows.append({"scale": f"{label}, {text(name, language).lower()}",
                         "n": len(values),
                         "mean": float(values.mean()) if len(values) else math.nan,
                         "sd": float(values.std(ddof=1)) if len(values) > 1 else math.nan})
    table = pd.DataFrame(rows).set_index("scale")
    return suppress_table(table, "n", threshold, lang=language, secondary=False)


def scale_reliability(
    data: pd.DataFrame,
    instrument: Instrument,
    *,
    labels: Mapping[str, str] | None = None,
) -> tuple[pd.DataFrame, dict[str, ReliabilityResult]]:
    """Reliability of the total score and every subscale of an instrument.

    Parameters
    ----------
    data
        One row per respondent (one wave), item columns reverse-keyed by cleaning.
    instrument
        The instrument (items of each subscale; the total uses ``scored_items``).
    labels
        Display names of the scales (index of the summary).

    Returns
    -------
    summary, results
        ``summary``: one row per scale (index ``scale``) with the columns of
        ``ReliabilityResult.summary``; ``results``: scale name -> full result.
    """
    from ipo_research.analysis import reliability

    scales: dict[str, tuple[str, ...]] = {}
    if instrument.total:
        scales[instrument.total] = instrument.scored_items
    scales.update(instrument.subscales)
    rows = []
    results: dict[str, ReliabilityResult] = {}
    for name, items in scales.items():
        result = reliability(data, list(items))
        results[name] = result
        rows.append(result.summary.iloc[0].rename((labels or {}).get(name, name)))
    summary = pd.DataFrame(rows)
    summary.index.name = "scale"
    return summary, results

