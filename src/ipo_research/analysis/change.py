"""Paired (pre/post) change: t test, d_z with noncentral-t CI, d_av, Hedges' g, Wilcoxon.

Conventions (see ``DOMAIN.md``), each checked against R by
``tests/r/reliability_change_groups.R``:

* ``t``, ``df``, ``p``, ``diff_ci_*``: ``t.test(post, pre, paired = TRUE)``;
* ``d_z`` and its CI: ``effectsize::cohens_d(post, pre, paired = TRUE)`` (mean difference over
  the SD of the differences; CI from the noncentral t, divided by ``sqrt(n)``);
* ``hedges_g``: ``effectsize::hedges_g(post, pre, paired = TRUE)``, i.e. ``d_z`` times the exact
  correction ``J = Gamma(df/2) / (sqrt(df/2) Gamma((df-1)/2))``;
* ``d_av``: mean difference over ``sqrt((var(pre) + var(post)) / 2)``, as
  ``effectsize::repeated_measures_d(method = "av")`` (and pingouin's paired ``cohen_d``);
* ``wilcoxon_v``, ``wilcoxon_p``: ``wilcox.test(post, pre, paired = TRUE)``: V is the sum of the
  ranks of the positive differences ``post - pre``; zero differences are dropped; the p-value is
  exact when there are fewer than 50 non-zero differences and no ties or zeros, otherwise the
  normal approximation with tie correction and continuity correction;
* ``r_rb``: matched-pairs rank-biserial correlation, ``effectsize::rank_biserial(post, pre,
  paired = TRUE)``: ``(W+ - W-) / (n (n + 1) / 2)`` over the non-zero differences.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
from scipy import optimize, stats

from ipo_research.analysis._common import hedges_j, numeric_matrix, require_columns
from ipo_research.errors import AnalysisError

__all__ = ["ResponseShiftResult", "paired_change", "response_shift"]

PAIRED_COLUMNS = (
    "n",
    "mean_pre",
    "mean_post",
    "mean_diff",
    "diff_ci_low",
    "diff_ci_high",
    "t",
    "df",
    "p",
    "d_z",
    "d_z_ci_low",
    "d_z_ci_high",
    "d_av",
    "hedges_g",
    "wilcoxon_v",
    "wilcoxon_p",
    "r_rb",
)


# --------------------------------------------------------------------------- helpers
def noncentral_t_ci(t: float, df: float, level: float = 0.95) -> tuple[float, float]:
    """Noncentrality parameters bounding a CI for an observed ``t`` (effectsize ``.get_ncp_t``).

    Solves ``P(T_df(ncp) <= t) = 1 - (1 - level)/2`` (lower bound) and ``= (1 - level)/2`` (upper
    bound) by root finding, where effectsize uses ``optim``; the roots are the same.

    Parameters
    ----------
    t
        Observed t statistic.
    df
        Degrees of freedom.
    level
        Confidence level.

    Returns
    -------
    tuple of float
        ``(ncp_low, ncp_high)``.
    """
    tail = (1.0 - level) / 2.0

    def root(prob: float) -> float:
        def f(ncp: float) -> float:
            return float(stats.nct.cdf(t, df, ncp)) - prob

        width = 2.0 + abs(t) * 0.5
        lo, hi = t - width, t + width
        while f(lo) < 0:
            lo -= width
        while f(hi) > 0:
            hi += width
        return float(optimize.brentq(f, lo, hi, xtol=1e-12, rtol=1e-12))

    return root(1.0 - tail), root(tail)


@lru_cache(maxsize=64)
def _signrank_cdf(n: int) -> np.ndarray:
    """Cumulative distribution of the signed-rank statistic for ``n`` pairs (R's ``psignrank``)."""
    top = n * (n + 1) // 2
    counts = np.zeros(top + 1)
    counts[0] = 1.0
    for i in range(1, n + 1):
        counts[i:] = counts[i:] + counts[: top + 1 - i].copy()
    return np.cumsum(counts) / 2.0**n


def wilcoxon_signed_rank(diff: np.ndarray) -> tuple[float, float, float]:
    """Wilcoxon signed-rank test of ``diff`` as R's ``wilcox.test(x, y, paired = TRUE)``.

    Parameters
    ----------
    diff
        Paired differences (``post - pre``), no missing values.

    Returns
    -------
    tuple of float
        ``(V, p, r_rb)``: the sum of positive ranks, the two-sided p-value and the matched
        rank-biserial correlation (NaN p and r when every difference is zero).
    """
    nonzero = diff[diff != 0]
    n = nonzero.size
    if n == 0:
        return 0.0, float("nan"), float("nan")
    ranks = stats.rankdata(np.abs(nonzero))
    v = float(ranks[nonzero > 0].sum())
    max_w = n * (n + 1) / 2.0
    r_rb = (v - (max_w - v)) / max_w
    _, tie_counts = np.unique(ranks, return_counts=True)
    ties = bool(np.any(tie_counts > 1))
    zeros = n < diff.size
    if n < 50 and not ties and not zeros:
        cdf = _signrank_cdf(n)
        # upper tail P(V >= v) by symmetry as P(V <= max - v): no cancellation for tiny p
        p = cdf[n * (n + 1) // 2 - round(v)] if v > n * (n + 1) / 4.0 else cdf[round(v)]
        return v, float(min(1.0, 2.0 * p)), r_rb
    z = v - n * (n + 1) / 4.0
    sigma = np.sqrt(n * (n + 1) * (2 * n + 1) / 24.0 - np.sum(tie_counts**3 - tie_counts) / 48.0)
    z = (z - np.sign(z) * 0.5) / sigma
    p = 2.0 * min(stats.norm.cdf(z), stats.norm.sf(z))
    return v, float(p), r_rb


def _paired_row(pre: np.ndarray, post: np.ndarray, names: tuple[str, str]) -> dict[str, float]:
    n = pre.size
    if n < 3:
        raise AnalysisError(
            f"fewer than 3 complete pairs ({n}) of {names[0]!r} and {names[1]!r}",
            column=names[1],
            context={"parameter": "pre/post"},
            hint="paired change needs at least 3 respondents with both measurements",
        )
    diff = post - pre
    mean_diff = float(diff.mean())
    sd_diff = float(diff.std(ddof=1))
    if not sd_diff > 0:
        raise AnalysisError(
            f"every difference {names[1]!r} - {names[0]!r} is the same ({mean_diff:g}), "
            "so t and d_z are undefined",
            column=names[1],
            context={"parameter": "pre/post"},
            hint="check that pre and post are different measurements",
        )
    df = n - 1
    se = sd_diff / np.sqrt(n)
    t = mean_diff / se
    p = float(2.0 * stats.t.sf(abs(t), df))
    q = float(stats.t.ppf(0.975, df))
    d_z = mean_diff / sd_diff
    ncp_low, ncp_high = noncentral_t_ci(t, df)
    sd_av = np.sqrt((pre.var(ddof=1) + post.var(ddof=1)) / 2.0)
    v, wp, r_rb = wilcoxon_signed_rank(diff)
    return {
        "n": n,
        "mean_pre": float(pre.mean()),
        "mean_post": float(post.mean()),
        "mean_diff": mean_diff,
        "diff_ci_low": mean_diff - q * se,
        "diff_ci_high": mean_diff + q * se,
        "t": float(t),
        "df": float(df),
        "p": p,
        "d_z": d_z,
        "d_z_ci_low": ncp_low / np.sqrt(n),
        "d_z_ci_high": ncp_high / np.sqrt(n),
        "d_av": float(mean_diff / sd_av) if sd_av > 0 else float("nan"),
        "hedges_g": d_z * hedges_j(df),
        "wilcoxon_v": v,
        "wilcoxon_p": wp,
        "r_rb": r_rb,
    }


def _check_distinct(pre: str, post: str) -> None:
    if pre == post:
        raise AnalysisError(
            f"pre and post name the same column {pre!r}",
            column=pre,
            context={"parameter": "post"},
            hint="pass the two measurement columns",
        )


# --------------------------------------------------------------------------- public API
def paired_change(data: pd.DataFrame, pre: str, post: str) -> pd.DataFrame:
    r"""Change from ``pre`` to ``post`` in the same respondents (rows with both answered).

    Parameters
    ----------
    data
        One row per respondent, wide format.
    pre, post
        Names of the two numeric measurement columns; differences are ``post - pre``.

    Returns
    -------
    pandas.DataFrame
        One row with ``n`` (complete pairs), ``mean_pre``, ``mean_post``, ``mean_diff``,
        ``diff_ci_low``, ``diff_ci_high`` (95%), ``t``, ``df``, ``p`` (two-sided paired t test),
        ``d_z`` = :math:`\bar d / s_d` with ``d_z_ci_low``, ``d_z_ci_high`` (noncentral t, 95%),
        ``d_av`` = :math:`\bar d / \sqrt{(s^2_{pre} + s^2_{post})/2}`, ``hedges_g`` (``d_z``
        times the exact correction), ``wilcoxon_v`` (R's V), ``wilcoxon_p`` and ``r_rb``
        (matched rank-biserial r).

    Raises
    ------
    AnalysisError
        Unknown or non-numeric column, the same column twice, fewer than 3 complete pairs, or
        all differences equal.

    Notes
    -----
    R equivalents: ``t.test(post, pre, paired = TRUE)``,
    ``effectsize::cohens_d(post, pre, paired = TRUE)``, ``effectsize::hedges_g(post, pre,
    paired = TRUE)``, ``wilcox.test(post, pre, paired = TRUE)``,
    ``effectsize::rank_biserial(post, pre, paired = TRUE)``.  pingouin's paired ``cohen_d`` is
    ``d_av`` (not ``d_z``) and its Hedges correction is an approximation: not used here.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"pre": [3, 4, 2, 5, 3, 4], "post": [4, 5, 4, 5, 3, 6]})
    >>> row = paired_change(df, "pre", "post")
    >>> float(row.loc[0, "mean_diff"]), float(row.loc[0, "wilcoxon_v"])
    (1.0, 10.0)
    """
    require_columns(data, [pre, post], "pre/post")
    _check_distinct(pre, post)
    x = numeric_matrix(data, [pre, post], "pre/post")
    x = x[~np.isnan(x).any(axis=1)]
    row = _paired_row(x[:, 0], x[:, 1], (pre, post))
    return pd.DataFrame({k: [row[k]] for k in PAIRED_COLUMNS})


@dataclass(frozen=True)
class ResponseShiftResult:
    """Result of :func:`response_shift`.

    Attributes
    ----------
    table
        Three rows indexed by ``estimate``, each with the columns of :func:`paired_change` plus
        ``from`` and ``to`` (the column names compared, difference ``to - from``):

        * ``response_shift``: retrospective pretest minus true pretest (``then - pre``);
        * ``true_change``: post minus true pretest (``post - pre``);
        * ``retrospective_change``: post minus retrospective pretest (``post - then``).

        All three use the same respondents (every measurement answered), so
        ``retrospective_change.mean_diff = true_change.mean_diff - response_shift.mean_diff``.
    """

    table: pd.DataFrame

    @property
    def shift(self) -> pd.Series:
        """The ``response_shift`` row."""
        return self.table.iloc[0]  # rows are built in this fixed order

    @property
    def true_change(self) -> pd.Series:
        """The ``true_change`` row."""
        return self.table.iloc[1]  # rows are built in this fixed order

    @property
    def retrospective_change(self) -> pd.Series:
        """The ``retrospective_change`` row."""
        return self.table.iloc[2]  # rows are built in this fixed order


def response_shift(data: pd.DataFrame, then: str, pre: str, post: str) -> ResponseShiftResult:
    """Response shift: retrospective pretest (``then``) against the true pretest (``pre``).

    In a retrospective pre/post design (ICCAS) students rate "before" and "now" in one sitting
    at the end; when a true pretest exists as well, ``then - pre`` estimates the response shift
    (recalibration of the scale by what was learned), and the two change estimates
    (``post - pre`` and ``post - then``) can be set side by side.

    Parameters
    ----------
    data
        One row per respondent (true pretest matched to the posttest record).
    then
        Retrospective pretest column ("before", rated at posttest).
    pre
        True pretest column.
    post
        Posttest column ("now").

    Returns
    -------
    ResponseShiftResult
        ``.table`` with the rows ``response_shift``, ``true_change``, ``retrospective_change``.

    Raises
    ------
    AnalysisError
        As :func:`paired_change`, on the rows where all three columns are answered.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"then": [3, 3, 2, 4, 3, 2], "pre": [4, 4, 3, 4, 4, 3],
    ...                    "post": [5, 5, 4, 6, 6, 4]})
    >>> res = response_shift(df, "then", "pre", "post")
    >>> float(res.shift["mean_diff"])
    -0.8333333333333334
    """
    require_columns(data, [then, pre, post], "then/pre/post")
    _check_distinct(then, pre)
    _check_distinct(pre, post)
    _check_distinct(then, post)
    x = numeric_matrix(data, [then, pre, post], "then/pre/post")
    x = x[~np.isnan(x).any(axis=1)]
    specs = {
        "response_shift": (1, 0, pre, then),
        "true_change": (1, 2, pre, post),
        "retrospective_change": (0, 2, then, post),
    }
    rows = []
    for a, b, name_from, name_to in specs.values():
        row: dict[str, object] = dict(_paired_row(x[:, a], x[:, b], (name_from, name_to)))
        row["from"] = name_from
        row["to"] = name_to
        rows.append(row)
    table = pd.DataFrame(rows, index=pd.Index(list(specs), name="estimate"))
    return ResponseShiftResult(table=table[["from", "to", *PAIRED_COLUMNS]])
