"""APA 7 numbers and tables, in Dutch (decimal comma) and English.

Two layers:

* pure number formatters: :func:`fmt_num`, :func:`fmt_int`, :func:`fmt_df`, :func:`fmt_p`,
  :func:`fmt_ci` and :func:`fmt_stat` (which picks the rule from the statistic's name);
* :func:`apa_table`, which turns any result of :mod:`ipo_research.analysis` into an
  :class:`ApaTable`: a DataFrame of formatted strings with a title and a note, which
  renders to accessible HTML (:meth:`ApaTable.to_html`) and to Word
  (:meth:`ApaTable.to_docx`).

Rules (APA 7, sections 6.36-6.40 and 7.8-7.21):

* statistics that cannot exceed 1 in absolute value (p, r, alpha, omega, ICC, CFI, ...)
  have no leading zero (``.85``); all others do (``0.42`` for a mean difference or *d*);
* *p* is exact to three decimals, ``< .001`` below .001 and ``> .999`` from .9995 on
  (a rounded 1.000 would claim certainty);
* confidence intervals are in brackets: ``[0.12, 0.45]``.  Dutch uses a decimal comma,
  so the two limits are separated by a semicolon: ``[0,12; 0,45]`` and ``p < ,001``;
* rounding is half away from zero on the shortest decimal representation of the value
  (``0.125 -> 0.13``, as a reader rounding the printed full-precision value would do);
* negative numbers use the typographic minus sign (U+2212); a value that rounds to zero
  is printed without a sign;
* integers of 1,000 or more get a thousands separator (``,`` in English, ``.`` in
  Dutch), degrees of freedom never do.

Small cells: by default every row of a table whose ``n`` is below ``min_n`` (10) is
blanked with the marker ``x`` (as Statistics Netherlands marks confidential cells) and
explained in the note; see :mod:`ipo_research.present.suppress` for tables with margins.
"""

from __future__ import annotations

import dataclasses
import html
import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pandas as pd

from ipo_research.errors import PresentationError
from ipo_research.present.labels import DEFAULT_MIN_N, Lang, check_lang, text

if TYPE_CHECKING:  # pragma: no cover
    from docx.document import Document as DocxDocument

__all__ = [
    "MINUS",
    "NA",
    "SUPPRESSED",
    "ApaTable",
    "apa_css",
    "apa_table",
    "fmt_ci",
    "fmt_df",
    "fmt_int",
    "fmt_num",
    "fmt_p",
    "fmt_stat",
    "table_kinds",
]

MINUS = "\u2212"
"""Typographic minus sign used for negative numbers."""
NA = "—"
"""Shown for a missing value (APA: an em dash in an empty cell)."""
SUPPRESSED = "x"
"""Shown for a suppressed cell (as Statistics Netherlands marks confidential figures)."""

#: Statistics bounded by 1 in absolute value: printed without a leading zero.
BOUNDED_STATS = frozenset(
    {
        "p",
        "r",
        "alpha",
        "std_alpha",
        "omega",
        "omega_total",
        "omega_h",
        "average_r",
        "item_rest_r",
        "alpha_if_deleted",
        "omega_if_deleted",
        "alpha_ci_low",
        "alpha_ci_high",
        "r_rb",
        "icc",
        "cfi",
        "tli",
        "rmsea",
        "rmsea_ci_low",
        "rmsea_ci_high",
        "srmr",
        "omega_sq",
        "epsilon_sq",
        "eta_sq",
        "r2",
        "delta_cfi",
        "delta_tli",
        "delta_rmsea",
        "delta_srmr",
    }
)
#: Statistics that are p-values (formatted by :func:`fmt_p`).
P_STATS = frozenset(
    {"p", "p_welch", "p_kruskal", "wilcoxon_p", "pval", "p_adj", "p_diff", "p_value", "p_chisq"}
)
#: Statistics that are counts.
INT_STATS = frozenset(
    {"n", "k", "n_items", "n_obs", "n_groups", "n_clusters", "nobs", "ngroups", "count", "aantal"}
)
#: Row names of analysis results that have a translated label (see present/labels.py).
_KNOWN_ROWS = frozenset({"response_shift", "true_change", "retrospective_change"})
#: Statistics that are degrees of freedom.
DF_STATS = frozenset({"df", "df1", "df2", "df_diff", "ddf", "dof"})


# =========================================================================== numbers
def _is_missing(value: object) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(cast(Any, value)))
    except (TypeError, ValueError):
        return False


def _as_float(value: object, what: str) -> float:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise PresentationError(
            f"{what} must be a number, got {value!r}",
            hint="pass the unrounded numeric result of an analysis function",
        ) from exc
    if math.isinf(number):
        raise PresentationError(
            f"{what} is infinite", hint="check the analysis result; APA tables show finite values"
        )
    return number


def _localise(formatted: str, lang: Lang) -> str:
    """Swap ``.`` and ``,`` for Dutch (decimal comma, thousands point)."""
    if lang == "nl":
        return formatted.translate(str.maketrans(".,", ",."))
    return formatted


def _check_decimals(decimals: int) -> int:
    if isinstance(decimals, bool) or not isinstance(decimals, int) or decimals < 0:
        raise PresentationError(
            f"decimals must be a whole number >= 0, got {decimals!r}",
            context={"parameter": "decimals"},
            hint="use for example decimals=2",
        )
    return decimals


def _round(number: float, decimals: int) -> Decimal:
    quantum = Decimal(1).scaleb(-decimals)
    try:
        return Decimal(repr(number)).quantize(quantum, rounding=ROUND_HALF_UP)
    except InvalidOperation as exc:  # pragma: no cover - only for absurd magnitudes
        raise PresentationError(f"cannot round {number!r} to {decimals} decimals") from exc


def fmt_num(
    value: object,
    decimals: int = 2,
    *,
    lang: str = "en",
    stat: str | None = None,
    leading_zero: bool | None = None,
    thousands: bool = False,
    na: str = NA,
) -> str:
    """Format a number by APA 7 rules.

    Parameters
    ----------
    value
        The number (``None``/NaN give ``na``).
    decimals
        Number of decimals.
    lang
        ``"nl"`` (decimal comma) or ``"en"`` (decimal point).
    stat
        Name of the statistic; statistics in :data:`BOUNDED_STATS` (p, r, alpha,
        omega, ...) get no leading zero.  Ignored when ``leading_zero`` is given.
    leading_zero
        Force (``True``) or drop (``False``) the zero before the decimal separator of
        numbers between -1 and 1.  Default: drop only for bounded statistics.
    thousands
        Group thousands (``1,234.5`` / ``1.234,5``).
    na
        Text for a missing value.

    Returns
    -------
    str

    Examples
    --------
    >>> fmt_num(0.4567)
    '0.46'
    >>> fmt_num(0.8512, stat="alpha")
    '.85'
    >>> fmt_num(-0.125, lang="nl")
    '−0,13'
    """
    language = check_lang(lang)
    decimals = _check_decimals(decimals)
    if _is_missing(value):
        return na
    number = _as_float(value, "value")
    rounded = _round(number, decimals)
    negative = rounded < 0
    magnitude = abs(rounded)
    body = f"{magnitude:,.{decimals}f}" if thousands else f"{magnitude:.{decimals}f}"
    if leading_zero is None:
        leading_zero = stat not in BOUNDED_STATS
    if not leading_zero and body.startswith("0.") and decimals > 0:
        body = body[1:]
    return (MINUS if negative else "") + _localise(body, language)


def fmt_int(value: object, *, lang: str = "en", na: str = NA) -> str:
    """Format a count: no decimals, a thousands separator from 1,000 on.

    Examples
    --------
    >>> fmt_int(1234), fmt_int(1234, lang="nl"), fmt_int(999)
    ('1,234', '1.234', '999')
    """
    language = check_lang(lang)
    if _is_missing(value):
        return na
    number = _as_float(value, "count")
    if number != round(number):
        raise PresentationError(
            f"count must be a whole number, got {value!r}",
            hint="format non-integer values with fmt_num",
        )
    rounded = round(number)
    body = f"{abs(rounded):,d}" if abs(rounded) >= 1000 else str(abs(rounded))
    return (MINUS if rounded < 0 else "") + _localise(body, language)


def fmt_df(value: object, decimals: int = 2, *, lang: str = "en", na: str = NA) -> str:
    """Format degrees of freedom: whole numbers as integers, others (Welch, Satterthwaite) with decimals.

    Examples
    --------
    >>> fmt_df(48.0), fmt_df(47.314), fmt_df(47.314, lang="nl")
    ('48', '47.31', '47,31')
    """
    language = check_lang(lang)
    if _is_missing(value):
        return na
    number = _as_float(value, "df")
    if _round(number, decimals) == _round(number, 0):  # whole at the shown precision
        return fmt_num(number, 0, lang=language)
    return fmt_num(number, decimals, lang=language, leading_zero=True)


def fmt_p(value: object, *, lang: str = "en", prefix: bool = False, na: str = NA) -> str:
    """Format a p-value by APA 7: exact to three decimals without a leading zero.

    Values below .001 print as ``< .001``; values of .9995 and above print as
    ``> .999`` (a rounded ``1.000`` would claim certainty).

    Parameters
    ----------
    value
        The p-value, in [0, 1] (tiny floating-point excess is tolerated).
    lang
        ``"nl"`` (``< ,001``) or ``"en"`` (``< .001``).
    prefix
        Prepend the italic-free symbol: ``p = .040`` / ``p < .001``.
    na
        Text for a missing value.

    Raises
    ------
    PresentationError
        If the value is not a number or lies outside [0, 1].

    Examples
    --------
    >>> fmt_p(0.0004), fmt_p(0.05), fmt_p(0.04049), fmt_p(1.0)
    ('< .001', '.050', '.040', '> .999')
    >>> fmt_p(0.0004, lang="nl", prefix=True)
    'p < ,001'
    """
    language = check_lang(lang)
    if _is_missing(value):
        return na
    number = _as_float(value, "p-value")
    if number < -1e-12 or number > 1 + 1e-9:
        raise PresentationError(
            f"p-value must lie between 0 and 1, got {number!r}",
            hint="pass a probability, not a test statistic or a percentage",
        )
    if number < 0.001:
        body, sign = "< " + _localise(".001", language), "<"
    elif number >= 0.9995:
        body, sign = "> " + _localise(".999", language), ">"
    else:
        body, sign = fmt_num(number, 3, lang=language, leading_zero=False), "="
    if not prefix:
        return body
    return f"p {body}" if sign != "=" else f"p = {body}"


def fmt_ci(
    low: object,
    high: object,
    decimals: int = 2,
    *,
    lang: str = "en",
    stat: str | None = None,
    leading_zero: bool | None = None,
    na: str = NA,
) -> str:
    """Format a confidence interval in brackets.

    English separates the limits with a comma, Dutch (decimal comma) with a semicolon.

    Examples
    --------
    >>> fmt_ci(0.123, 0.456)
    '[0.12, 0.46]'
    >>> fmt_ci(0.123, 0.456, lang="nl")
    '[0,12; 0,46]'
    >>> fmt_ci(0.80, 0.91, stat="alpha")
    '[.80, .91]'
    """
    language = check_lang(lang)
    if _is_missing(low) or _is_missing(high):
        return na
    sep = "; " if language == "nl" else ", "
    lo = fmt_num(low, decimals, lang=language, stat=stat, leading_zero=leading_zero)
    hi = fmt_num(high, decimals, lang=language, stat=stat, leading_zero=leading_zero)
    return f"[{lo}{sep}{hi}]"


def fmt_stat(value: object, stat: str, *, lang: str = "en", decimals: int | None = None) -> str:
    """Format ``value`` by the rule for the statistic named ``stat``.

    p-values (:data:`P_STATS`) use :func:`fmt_p`, counts (:data:`INT_STATS`) use
    :func:`fmt_int`, degrees of freedom (:data:`DF_STATS`) use :func:`fmt_df`, and all
    other numbers :func:`fmt_num` with the leading-zero rule of :data:`BOUNDED_STATS`.

    Examples
    --------
    >>> fmt_stat(0.0123, "p"), fmt_stat(0.85, "alpha"), fmt_stat(2.345, "t", lang="nl")
    ('.012', '.85', '2,35')
    """
    if stat in P_STATS:
        return fmt_p(value, lang=lang)
    if stat in INT_STATS:
        return fmt_int(value, lang=lang)
    if stat in DF_STATS:
        return fmt_df(value, 2 if decimals is None else decimals, lang=lang)
    return fmt_num(value, 2 if decimals is None else decimals, lang=lang, stat=stat)


# =========================================================================== column specs
Run = tuple[str, str]
"""A piece of header text and its style: ``""`` (plain), ``"i"`` (italic), ``"sub"``."""
Runs = tuple[Run, ...]


def _i(s: str) -> Run:
    return (s, "i")


def _s(s: str) -> Run:
    return (s, "sub")


def _t(s: str) -> Run:
    return (s, "")


def _same(*runs: Run) -> dict[Lang, Runs]:
    return {"nl": runs, "en": runs}


def _plain(runs: Runs) -> str:
    return "".join(("_" + s) if style == "sub" else s for s, style in runs)


@dataclass(frozen=True)
class _Col:
    """How one result column (or a CI pair) becomes one table column."""

    header: Mapping[Lang, Runs]
    fmt: str  # "int" | "num" | "p" | "df" | "ci" | "text" | "num_or_int"
    decimals: int = 2
    high: str | None = None
    stat: str | None = None


def _ci_header(suffix: Runs = ()) -> dict[Lang, Runs]:
    nl: Runs = (_t("95%-BI"),) + ((_t(" "), *suffix) if suffix else ())
    en: Runs = (_t("95% CI"),) + ((_t(" "), *suffix) if suffix else ())
    return {"nl": nl, "en": en}


COLUMNS: dict[str, _Col] = {
    # reliability
    "n": _Col(_same(_i("n")), "int"),
    "k": _Col(_same(_i("k")), "int"),
    "alpha": _Col(_same(_t("α")), "num", stat="alpha"),
    "alpha_ci_low": _Col(_ci_header(), "ci", high="alpha_ci_high", stat="alpha"),
    "std_alpha": _Col(_same(_t("α"), _s("std")), "num", stat="std_alpha"),
    "average_r": _Col({"nl": (_i("r"), _s("gem")), "en": (_i("r"), _s("avg"))}, "num", stat="r"),
    "omega_total": _Col(_same(_t("ω"), _s("t")), "num", stat="omega"),
    "mean": _Col(_same(_i("M")), "num"),
    "sd": _Col(_same(_i("SD")), "num"),
    "item_rest_r": _Col(_same(_i("r"), _s("ir")), "num", stat="r"),
    "alpha_if_deleted": _Col(
        {"nl": (_t("α zonder item"),), "en": (_t("α if deleted"),)}, "num", stat="alpha"
    ),
    "omega_if_deleted": _Col(
        {"nl": (_t("ω"), _s("t"), _t(" zonder item")), "en": (_t("ω"), _s("t"), _t(" if deleted"))},
        "num",
        stat="omega",
    ),
    # paired change
    "mean_pre": _Col({"nl": (_i("M"), _s("voor")), "en": (_i("M"), _s("pre"))}, "num"),
    "mean_post": _Col({"nl": (_i("M"), _s("na")), "en": (_i("M"), _s("post"))}, "num"),
    "mean_diff": _Col({"nl": (_i("M"), _s("verschil")), "en": (_i("M"), _s("diff"))}, "num"),
    "diff_ci_low": _Col(_ci_header(), "ci", high="diff_ci_high"),
    "t": _Col(_same(_i("t")), "num"),
    "df": _Col(_same(_i("df")), "df"),
    "p": _Col(_same(_i("p")), "p"),
    "d_z": _Col(_same(_i("d"), _s("z")), "num"),
    "d_z_ci_low": _Col(_ci_header((_i("d"), _s("z"))), "ci", high="d_z_ci_high"),
    "d_av": _Col(_same(_i("d"), _s("av")), "num"),
    "hedges_g": _Col(_same(_i("g")), "num"),
    "wilcoxon_v": _Col(_same(_i("V")), "num_or_int", decimals=1),
    "wilcoxon_p": _Col(_same(_i("p"), _s("V")), "p"),
    "r_rb": _Col(_same(_i("r"), _s("rb")), "num", stat="r_rb"),
    # group comparison
    "welch_f": _Col(_same(_i("F"), _s("Welch")), "num"),
    "df1": _Col(_same(_i("df"), _s("1")), "df"),
    "df2": _Col(_same(_i("df"), _s("2")), "df"),
    "p_welch": _Col(_same(_i("p")), "p"),
    "omega_sq": _Col(_same(_t("ω²")), "num", stat="omega_sq"),
    "kruskal_h": _Col(_same(_i("H")), "num"),
    "p_kruskal": _Col(_same(_i("p"), _s("H")), "p"),
    "epsilon_sq": _Col(_same(_t("ε²")), "num", stat="epsilon_sq"),
    # pairwise (names as pingouin or as the analysis layer may use them)
    "A": _Col(_same(_t("A")), "text"),
    "B": _Col(_same(_t("B")), "text"),
    "group1": _Col({"nl": (_t("Groep 1"),), "en": (_t("Group 1"),)}, "text"),
    "group2": _Col({"nl": (_t("Groep 2"),), "en": (_t("Group 2"),)}, "text"),
    "mean(A)": _Col(_same(_i("M"), _s("A")), "num"),
    "mean(B)": _Col(_same(_i("M"), _s("B")), "num"),
    "mean_a": _Col(_same(_i("M"), _s("A")), "num"),
    "mean_b": _Col(_same(_i("M"), _s("B")), "num"),
    "diff": _Col({"nl": (_i("M"), _s("verschil")), "en": (_i("M"), _s("diff"))}, "num"),
    "se": _Col(_same(_i("SE")), "num"),
    "T": _Col(_same(_i("t")), "num"),
    "pval": _Col(_same(_i("p")), "p"),
    "p_adj": _Col(_same(_i("p"), _s("adj")), "p"),
    "hedges": _Col(_same(_i("g")), "num"),
    "g": _Col(_same(_i("g")), "num"),
    "ci_low": _Col(_ci_header(), "ci", high="ci_high"),
    # mixed models
    "estimate": _Col(_same(_i("b")), "num"),
    "group": _Col({"nl": (_t("Groep"),), "en": (_t("Group"),)}, "text"),
    "term": _Col({"nl": (_t("Term"),), "en": (_t("Term"),)}, "text"),
    "variance": _Col({"nl": (_t("Variantie"),), "en": (_t("Variance"),)}, "num", decimals=3),
    "icc": _Col(_same(_t("ICC")), "num", stat="icc"),
    # factor models
    "chisq": _Col(_same(_t("χ²")), "num"),
    "cfi": _Col(_same(_t("CFI")), "num", decimals=3, stat="cfi"),
    "tli": _Col(_same(_t("TLI")), "num", decimals=3, stat="tli"),
    "rmsea": _Col(_same(_t("RMSEA")), "num", decimals=3, stat="rmsea"),
    "rmsea_ci_low": _Col(
        _ci_header((_t("RMSEA"),)), "ci", decimals=3, high="rmsea_ci_high", stat="rmsea"
    ),
    "srmr": _Col(_same(_t("SRMR")), "num", decimals=3, stat="srmr"),
    "chisq_diff": _Col(_same(_t("Δχ²")), "num"),
    "df_diff": _Col(_same(_t("Δ"), _i("df")), "df"),
    "p_diff": _Col(_same(_i("p"), _s("Δχ²")), "p"),
    "delta_cfi": _Col(_same(_t("ΔCFI")), "num", decimals=3, stat="delta_cfi"),
    "delta_rmsea": _Col(_same(_t("ΔRMSEA")), "num", decimals=3, stat="delta_rmsea"),
    "delta_chisq": _Col(_same(_t("Δχ²")), "num"),
    "delta_df": _Col(_same(_t("Δ"), _i("df")), "df"),
    "delta_p": _Col(_same(_i("p"), _s("Δχ²")), "p"),
    "n1": _Col(_same(_i("n"), _s("1")), "int"),
    "n2": _Col(_same(_i("n"), _s("2")), "int"),
    "mean1": _Col(_same(_i("M"), _s("1")), "num"),
    "mean2": _Col(_same(_i("M"), _s("2")), "num"),
    "q": _Col(_same(_i("q")), "num"),
    "hedges_g_ci_low": _Col(_ci_header((_i("g"),)), "ci", high="hedges_g_ci_high"),
    "median": _Col(_same(_i("Mdn")), "num"),
    "factor": _Col({"nl": (_t("Factor"),), "en": (_t("Factor"),)}, "text"),
    "item": _Col({"nl": (_t("Item"),), "en": (_t("Item"),)}, "text"),
    "std_estimate": _Col(_same(_t("λ"), _s("std")), "num"),
}
# loadings show λ, not b
_LOADING = _Col(_same(_t("λ")), "num")


@dataclass(frozen=True)
class _Kind:
    columns: tuple[str, ...]
    title: str
    note: str
    index_header: str
    detect: frozenset[str]


KINDS: dict[str, _Kind] = {
    "reliability": _Kind(
        ("n", "k", "alpha", "alpha_ci_low", "std_alpha", "average_r", "omega_total"),
        "title_reliability",
        "note_reliability",
        "scale",
        frozenset({"alpha", "alpha_ci_low", "alpha_ci_high"}),
    ),
    "reliability_items": _Kind(
        ("n", "mean", "sd", "item_rest_r", "alpha_if_deleted", "omega_if_deleted"),
        "title_reliability_items",
        "note_reliability_items",
        "item",
        frozenset({"item_rest_r", "alpha_if_deleted"}),
    ),
    "paired_change": _Kind(
        (
            "n",
            "mean_pre",
            "mean_post",
            "mean_diff",
            "diff_ci_low",
            "t",
            "df",
            "p",
            "d_z",
            "d_z_ci_low",
            "d_av",
            "hedges_g",
            "wilcoxon_v",
            "wilcoxon_p",
            "r_rb",
        ),
        "title_paired_change",
        "note_paired_change",
        "group",
        frozenset({"mean_diff", "d_z"}),
    ),
    "compare_groups": _Kind(
        (
            "n",
            "k",
            "welch_f",
            "df1",
            "df2",
            "p_welch",
            "omega_sq",
            "kruskal_h",
            "p_kruskal",
            "epsilon_sq",
        ),
        "title_compare_groups",
        "note_compare_groups",
        "scale",
        frozenset({"welch_f", "kruskal_h"}),
    ),
    "mixed_fixed": _Kind(
        ("estimate", "se", "df", "t", "p"),
        "title_mixed_fixed",
        "note_mixed_fixed",
        "effect",
        frozenset({"estimate", "se", "df", "t", "p"}),
    ),
    "mixed_random": _Kind(
        ("group", "term", "variance", "sd"),
        "title_mixed_random",
        "note_mixed_random",
        "group",
        frozenset({"group", "term", "variance"}),
    ),
    "cfa_fit": _Kind(
        (
            "n",
            "chisq",
            "df",
            "p",
            "cfi",
            "tli",
            "rmsea",
            "rmsea_ci_low",
            "srmr",
            "chisq_diff",
            "df_diff",
            "p_diff",
            "delta_chisq",
            "delta_df",
            "delta_p",
            "delta_cfi",
            "delta_rmsea",
        ),
        "title_cfa_fit",
        "note_cfa_fit",
        "model",
        frozenset({"chisq", "cfi"}),
    ),
    "cfa_loadings": _Kind(
        ("factor", "item", "estimate", "std_estimate", "se", "p"),
        "title_cfa_loadings",
        "note_cfa_loadings",
        "item",
        frozenset({"factor", "item", "std_estimate"}),
    ),
    "pairwise": _Kind((), "title_pairwise", "note_pairwise", "group", frozenset()),
    "generic": _Kind((), "title_generic", "", "group", frozenset()),
}


def table_kinds() -> tuple[str, ...]:
    """Return the table kinds :func:`apa_table` knows (values for its ``kind`` argument)."""
    return tuple(KINDS)


def _detect_kind(frame: pd.DataFrame) -> str:
    columns = {str(c) for c in frame.columns}
    for name, kind in KINDS.items():
        if kind.detect and kind.detect <= columns:
            return name
    return "generic"


# =========================================================================== the table
@dataclass(frozen=True, eq=False)
class ApaTable:
    """A formatted APA 7 table.

    Attributes
    ----------
    frame
        The table body: every cell a formatted string, columns named by their plain-text
        headers (``"M"``, ``"d_z"``, ``"95%-BI"``...), default RangeIndex.
    title
        Table title (italic in title case under the number, APA 7).
    note
        General note shown below the table after "Noot." / "Note.", or ``None``.
    number
        Table number, or ``None`` for an unnumbered table.
    lang
        ``"nl"`` or ``"en"``.
    kind
        The kind of result the table shows (see :func:`table_kinds`).
    headers
        Styled header text per column: runs of ``(text, style)`` with style ``""``,
        ``"i"`` (italic statistical symbol) or ``"sub"`` (subscript).
    row_header
        Whether the first column labels the rows (rendered as row headers).
    """

    frame: pd.DataFrame
    title: str
    note: str | None = None
    number: int | None = None
    lang: Lang = "nl"
    kind: str = "generic"
    headers: tuple[Runs, ...] = ()
    row_header: bool = False

    @property
    def label(self) -> str:
        """The table number line, e.g. ``"Tabel 2"`` (empty when unnumbered)."""
        return f"{text('table', self.lang)} {self.number}" if self.number is not None else ""

    def header_runs(self) -> tuple[Runs, ...]:
        """Styled headers, one per column (plain headers when none were given)."""
        if len(self.headers) == self.frame.shape[1]:
            return self.headers
        return tuple(((str(c), ""),) for c in self.frame.columns)

    def to_html(self, *, table_id: str | None = None) -> str:
        """Render as accessible HTML.

        The table has a ``<caption>`` (number and title), column headers
        ``<th scope="col">``, row headers ``<th scope="row">`` when the first column
        labels rows, the note in ``<tfoot>``, statistical symbols in ``<i>``, subscripts
        in ``<sub>``, and no inline styles: style it with :func:`apa_css`.

        Parameters
        ----------
        table_id
            Optional ``id`` attribute.
        """
        esc = html.escape
        attrs = f' id="{esc(table_id)}"' if table_id else ""
        parts = [f'<table class="apa-table" lang="{self.lang}"{attrs}>']
        caption = []
        if self.label:
            caption.append(f'<span class="apa-table-number">{esc(self.label)}</span>')
        caption.append(f'<span class="apa-table-title">{esc(self.title)}</span>')
        parts.append("<caption>" + "<br>".join(caption) + "</caption>")
        parts.append("<thead><tr>")
        for runs in self.header_runs():
            parts.append(f'<th scope="col">{_runs_html(runs)}</th>')
        parts.append("</tr></thead>")
        parts.append("<tbody>")
        for row in self.frame.itertuples(index=False):
            cells = []
            for j, value in enumerate(row):
                if j == 0 and self.row_header:
                    cells.append(f'<th scope="row">{esc(str(value))}</th>')
                else:
                    cells.append(f"<td>{esc(str(value))}</td>")
            parts.append("<tr>" + "".join(cells) + "</tr>")
        parts.append("</tbody>")
        if self.note:
            ncol = max(self.frame.shape[1], 1)
            parts.append(
                f'<tfoot><tr><td colspan="{ncol}" class="apa-note">'
                f"<i>{esc(text('note', self.lang))}</i> {esc(self.note)}</td></tr></tfoot>"
            )
        parts.append("</table>")
        return "\n".join(parts)

    def _repr_html_(self) -> str:
        return self.to_html()

    def to_docx(self, target: DocxDocument | str | Path | None = None) -> Any:
        """Render as a Word table in APA style (see :mod:`ipo_research.present.docx`).

        Parameters
        ----------
        target
            ``None``: return the ``.docx`` file as bytes; a python-docx ``Document``:
            append the table to it and return the document; a path: write a new
            ``.docx`` there atomically and return the path.
        """
        from ipo_research.present.docx import table_to_docx

        return table_to_docx(self, target)


def _runs_html(runs: Runs) -> str:
    out = []
    for s, style in runs:
        piece = html.escape(s)
        if style == "i":
            piece = f"<i>{piece}</i>"
        elif style == "sub":
            piece = f"<sub>{piece}</sub>"
        out.append(piece)
    return "".join(out)


def _frames_of(result: object) -> dict[str, pd.DataFrame]:
    """Every DataFrame a result carries, by attribute name ("" for a bare frame)."""
    if isinstance(result, pd.DataFrame):
        return {"": result}
    if isinstance(result, pd.Series):
        return {"": result.to_frame().T}
    if dataclasses.is_dataclass(result) and not isinstance(result, type):
        names = [f.name for f in dataclasses.fields(result)]
    else:
        names = [n for n in dir(result) if not n.startswith("_")]
    frames = {}
    for name in names:
        value = getattr(result, name, None)
        if isinstance(value, pd.DataFrame):
            frames[name] = value
    return frames


def _pick(result: object, kind: str | None) -> tuple[str, pd.DataFrame, dict[str, pd.DataFrame]]:
    frames = _frames_of(result)
    if not frames:
        raise PresentationError(
            f"cannot make a table from a {type(result).__name__}: it holds no DataFrame",
            context={"parameter": "result"},
            hint="pass a DataFrame or a result of ipo_research.analysis",
        )
    kinds = {
        name: ("pairwise" if name == "pairwise" else _detect_kind(f)) for name, f in frames.items()
    }
    if kind is not None:
        if kind not in KINDS:
            raise PresentationError(
                f"unknown table kind {kind!r}",
                context={"parameter": "kind"},
                hint=f"use one of {', '.join(KINDS)} or leave kind=None",
            )
        for name, found in kinds.items():
            if found == kind:
                return kind, frames[name], frames
        if len(frames) == 1 and kind in ("generic", "pairwise"):
            return kind, next(iter(frames.values())), frames
        available = sorted(set(kinds.values()))
        raise PresentationError(
            f"this {type(result).__name__} holds no {kind!r} table",
            context={"parameter": "kind"},
            hint=f"available here: {', '.join(available)}",
        )
    found_kinds = set(kinds.values())
    for preferred in (
        "reliability_items",
        "mixed_fixed",
        "cfa_loadings",
        "compare_groups",
        "paired_change",
        "reliability",
        "cfa_fit",
        "mixed_random",
    ):
        if preferred in found_kinds:
            name = next(n for n, k in kinds.items() if k == preferred)
            return preferred, frames[name], frames
    name = next(iter(frames))
    return kinds[name], frames[name], frames


def _has_row_labels(frame: pd.DataFrame) -> bool:
    index = frame.index
    if isinstance(index, pd.RangeIndex) and index.name is None:
        return False
    return not (index.name is None and pd.api.types.is_integer_dtype(index.dtype))


def _row_label(value: object, lang: Lang, labels: Mapping[str, str] | None) -> str:
    key = str(value)
    if labels and key in labels:
        return labels[key]
    if key == "(Intercept)":
        return text("intercept", lang)
    if key == "Residual":
        return text("residual", lang)
    if key in _KNOWN_ROWS:
        return text(key, lang)
    return key


def _format_cell(col: _Col, name: str, row: pd.Series, lang: Lang, decimals: int) -> str:
    value = row[name]
    if col.fmt == "ci":
        return fmt_ci(value, row[col.high or name], decimals, lang=lang, stat=col.stat)
    if col.fmt == "int":
        return fmt_int(value, lang=lang)
    if col.fmt == "p":
        return fmt_p(value, lang=lang)
    if col.fmt == "df":
        return fmt_df(value, decimals, lang=lang)
    if col.fmt == "text":
        return NA if _is_missing(value) else _row_label(value, lang, None)
    if col.fmt == "num_or_int" and not _is_missing(value):
        number = _as_float(value, name)
        if number == round(number):
            return fmt_int(number, lang=lang)
        # a rank sum with ties (V = 21084.5): same thousands grouping as the integers
        return fmt_num(number, decimals, lang=lang, stat=col.stat, thousands=abs(number) >= 1000)
    return fmt_num(value, decimals, lang=lang, stat=col.stat)


def _generic_col(name: str, frame: pd.DataFrame) -> _Col:
    if name in COLUMNS:
        return COLUMNS[name]
    if name in P_STATS or name.startswith("p_"):
        return _Col(_same(_t(name)), "p")
    if name in INT_STATS:
        return _Col(_same(_t(name)), "int")
    if name in DF_STATS:
        return _Col(_same(_t(name)), "df")
    if pd.api.types.is_numeric_dtype(frame[name].dtype) and not pd.api.types.is_bool_dtype(
        frame[name].dtype
    ):
        return _Col(_same(_t(name)), "num", stat=name)
    return _Col(_same(_t(name)), "text")


def _columns_for(kind: str, frame: pd.DataFrame) -> list[tuple[str, _Col]]:
    present = {str(c) for c in frame.columns}
    spec = KINDS[kind].columns
    chosen: list[tuple[str, _Col]] = []
    if spec:
        for name in spec:
            if name not in present:
                continue
            col = _LOADING if (kind == "cfa_loadings" and name == "estimate") else COLUMNS[name]
            if col.fmt == "ci" and col.high not in present:
                continue
            chosen.append((name, col))
        return chosen
    highs = set()
    for name in (str(c) for c in frame.columns):
        if name.endswith("_high") and name[:-5] + "_low" in present:
            highs.add(name)
    for name in (str(c) for c in frame.columns):
        if name in highs or name == "suppression":
            continue
        if name.endswith("_low") and name[:-4] + "_high" in present and name not in COLUMNS:
            stem = name.removesuffix("_ci_low") if name.endswith("_ci_low") else name[:-4]
            chosen.append((name, _Col(_ci_header((_t(stem),)), "ci", high=name[:-4] + "_high")))
            continue
        chosen.append((name, _generic_col(name, frame)))
    return chosen


def _suppressed_rows(frame: pd.DataFrame, min_n: int | None) -> pd.Series:
    flags = pd.Series(False, index=frame.index)
    if "suppression" in frame.columns:
        flags |= frame["suppression"].fillna("").astype(str).str.len() > 0
    if min_n is not None and "n" in frame.columns:
        n = pd.to_numeric(frame["n"], errors="coerce")
        flags |= n.isna() | (n < min_n)
    return flags


def _summary_sentence(
    kind: str, frames: Mapping[str, pd.DataFrame], lang: Lang, min_n: int | None, result: object
) -> str:
    """One sentence with the result-level statistics that belong in the note."""
    if kind == "reliability_items":
        summary = next((f for f in frames.values() if _detect_kind(f) == "reliability"), None)
        if summary is None or len(summary) != 1:
            return ""
        row = summary.iloc[0]
        if min_n is not None and ("n" not in row or _is_missing(row["n"]) or row["n"] < min_n):
            return ""
        parts = [
            f"α = {fmt_num(row['alpha'], lang=lang, stat='alpha')}, {text('ci', lang)} "
            f"{fmt_ci(row['alpha_ci_low'], row['alpha_ci_high'], lang=lang, stat='alpha')}"
        ]
        if "omega_total" in row:
            parts.append(f"ω_t = {fmt_num(row['omega_total'], lang=lang, stat='omega')}")
        if "n" in row:
            parts.append(f"n = {fmt_int(row['n'], lang=lang)}")
        if "k" in row:
            parts.append(f"k = {fmt_int(row['k'], lang=lang)}")
        return "; ".join(parts)
    if kind == "mixed_fixed":
        parts = []
        random = next((f for f in frames.values() if _detect_kind(f) == "mixed_random"), None)
        if random is not None:
            for _, r in random.iterrows():
                group = _row_label(r["group"], lang, None)
                term = (
                    ""
                    if str(r["group"]) == "Residual"
                    else f" ({_row_label(r['term'], lang, None)})"
                )
                parts.append(
                    f"{text('variance', lang)} {group}{term} = "
                    f"{fmt_num(r['variance'], 3, lang=lang)}"
                )
        nobs = getattr(result, "nobs", None)
        ngroups = getattr(result, "ngroups", None)
        if isinstance(nobs, int | np.integer):
            parts.append(f"n = {fmt_int(nobs, lang=lang)}")
        if isinstance(ngroups, pd.Series):
            word = text("groups", lang)
            parts.extend(f"{k}: {fmt_int(v, lang=lang)} {word}" for k, v in ngroups.items())
        icc = getattr(result, "icc", None)
        if isinstance(icc, pd.Series):
            parts.extend(f"ICC {k} = {fmt_num(v, lang=lang, stat='icc')}" for k, v in icc.items())
        elif icc is not None and not _is_missing(icc):
            parts.append(f"ICC = {fmt_num(icc, lang=lang, stat='icc')}")
        return "; ".join(parts)
    if kind == "cfa_loadings":
        fit = next((f for f in frames.values() if _detect_kind(f) == "cfa_fit"), None)
        if fit is None or len(fit) != 1:
            return ""
        row = fit.iloc[0]
        parts = [
            f"χ²({fmt_df(row['df'], lang=lang)}) = {fmt_num(row['chisq'], lang=lang)}, "
            f"{fmt_p(row['p'], lang=lang, prefix=True)}"
        ]
        parts.extend(
            f"{name.upper()} = {fmt_num(row[name], 3, lang=lang, stat=name)}"
            for name in ("cfi", "tli", "rmsea", "srmr")
            if name in row
        )
        if "n" in row:
            parts.append(f"n = {fmt_int(row['n'], lang=lang)}")
        return "; ".join(parts)
    return ""


def apa_table(
    result: object,
    lang: str = "nl",
    kind: str | None = None,
    *,
    number: int | None = None,
    title: str | None = None,
    note: str | None = None,
    row_labels: Mapping[str, str] | None = None,
    decimals: Mapping[str, int] | None = None,
    min_n: int | None = DEFAULT_MIN_N,
) -> ApaTable:
    """Turn an analysis result into an APA 7 table.

    Parameters
    ----------
    result
        A result of :mod:`ipo_research.analysis` (``reliability``, ``paired_change``,
        ``compare_groups``, ``mixed_model``, ``cfa``, measurement invariance) or one of
        their DataFrames, or any DataFrame of statistics (several rows, e.g. one per team,
        are fine; a non-default index becomes the first column).
    lang
        ``"nl"`` (default, decimal comma) or ``"en"``.
    kind
        Which table to make; ``None`` picks from the columns: a reliability result gives
        its item table with alpha and omega in the note, a mixed model its fixed
        effects with the variance components in the note, a CFA its loadings with the
        fit in the note.  Ask for ``"reliability"``, ``"mixed_random"``, ``"cfa_fit"`` or
        ``"pairwise"`` to get the other tables.  See :func:`table_kinds`.
    number
        Table number (``Tabel 1``); ``None`` leaves it unnumbered.
    title, note
        Replace the default title; add a sentence to the generated note.
    row_labels
        Display names for row labels (items, terms, groups).
    decimals
        Decimals per result column, overriding the defaults (2; 3 for fit indices and
        variances; p always 3).
    min_n
        Rows whose ``n`` is below this are blanked with :data:`SUPPRESSED` and explained
        in the note; rows already marked by :func:`~ipo_research.present.suppress.suppress_table`
        are blanked too.  ``None`` turns the check off (only for non-published drafts).

    Returns
    -------
    ApaTable

    Raises
    ------
    PresentationError
        For an unknown ``lang`` or ``kind``, a result without tables, or values that
        cannot be formatted (a p-value outside [0, 1]).

    Examples
    --------
    >>> import pandas as pd
    >>> res = pd.DataFrame({"n": [40], "mean_pre": [3.1], "mean_post": [3.6],
    ...     "mean_diff": [0.5], "diff_ci_low": [0.3], "diff_ci_high": [0.7], "t": [4.9],
    ...     "df": [39.0], "p": [0.00002], "d_z": [0.77], "d_z_ci_low": [0.42],
    ...     "d_z_ci_high": [1.12]})
    >>> tab = apa_table(res, lang="nl")
    >>> tab.frame.loc[0, ["95%-BI", "p", "d_z"]].tolist()
    ['[0,30; 0,70]', '< ,001', '0,77']
    """
    language = check_lang(lang)
    if min_n is not None:
        from ipo_research.present.suppress import check_min_n

        min_n = check_min_n(min_n)
    chosen_kind, frame, frames = _pick(result, kind)
    spec = KINDS[chosen_kind]
    columns = _columns_for(chosen_kind, frame)
    overrides = dict(decimals or {})
    suppressed = _suppressed_rows(frame, min_n)
    nobs = getattr(result, "nobs", None)
    if min_n is not None and isinstance(nobs, int | np.integer) and nobs < min_n:
        suppressed[:] = True

    row_header = _has_row_labels(frame)
    body: dict[str, list[str]] = {}
    headers: list[Runs] = []
    if row_header:
        index_key = str(frame.index.name) if frame.index.name is not None else ""
        known = {k: k for k in ("item", "group", "factor", "model", "scale", "estimate")}
        known["term"] = "effect"
        if index_key in known:
            header = text(known[index_key], language)
        elif index_key:  # a named index (team, niveau, opleiding): its own name
            header = index_key[:1].upper() + index_key[1:]
        else:
            header = text(spec.index_header, language)
        runs: Runs = ((header, ""),)
        headers.append(runs)
        body[_plain(runs)] = [_row_label(v, language, row_labels) for v in frame.index]
    for name, col in columns:
        runs = col.header[language]
        key = _plain(runs)
        if key in body:  # two result columns with the same symbol: keep both, named
            key = f"{key} ({name})"
        headers.append(runs)
        n_dec = overrides.get(name, col.decimals)
        cells = []
        for is_hidden, (_, row) in zip(suppressed.to_numpy(), frame.iterrows(), strict=True):
            if bool(is_hidden) and col.fmt != "text":
                cells.append(SUPPRESSED)
            elif col.fmt == "text" and name in ("item", "group", "term") and row_labels:
                cells.append(_row_label(row[name], language, row_labels))
            else:
                cells.append(_format_cell(col, name, row, language, n_dec))
        body[key] = cells
    table_frame = pd.DataFrame(body, dtype=object)

    note_parts = []
    if spec.note:
        note_parts.append(text(spec.note, language))
    summary = _summary_sentence(chosen_kind, frames, language, min_n, result)
    if summary:
        note_parts.append(summary)
    if getattr(result, "converged", True) is False:
        note_parts.append(text("not_converged", language))
    if getattr(result, "singular", False) is True:
        note_parts.append(text("singular", language))
    if any(cell == NA for cells in body.values() for cell in cells):
        note_parts.append(text("dash_missing", language))
    if bool(suppressed.any()):
        threshold = min_n if min_n is not None else DEFAULT_MIN_N
        note_parts.append(
            text("suppressed_note", language, marker=f"{SUPPRESSED} =", min_n=threshold).rstrip(".")
        )
    if note:
        note_parts.append(note.rstrip("."))
    full_note = ". ".join(p.rstrip(".") for p in note_parts) + "." if note_parts else None
    return ApaTable(
        frame=table_frame,
        title=title if title is not None else text(spec.title, language),
        note=full_note,
        number=number,
        lang=language,
        kind=chosen_kind,
        headers=tuple(headers),
        row_header=row_header,
    )


def apa_css() -> str:
    """Return the stylesheet for :meth:`ApaTable.to_html` (APA rules, no hidden content)."""
    from importlib.resources import files

    return (files("ipo_research.present") / "apa.css").read_text(encoding="utf-8")
