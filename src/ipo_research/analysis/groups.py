"""Differences between independent groups: Welch ANOVA, Kruskal-Wallis, Games-Howell.

Conventions, each checked against R by ``tests/r/reliability_change_groups.R``:

* ``welch_f``, ``df1``, ``df2``, ``p_welch``: ``oneway.test(dv ~ group, var.equal = FALSE)``;
* ``kruskal_h``, ``p_kruskal``: ``kruskal.test(dv ~ group)`` (tie-corrected H, chi-square p);
* ``omega_sq``, ``epsilon_sq``: ``effectsize::omega_squared(aov(dv ~ group))`` and
  ``effectsize::epsilon_squared(aov(dv ~ group))``.  Both are the *ANOVA* effect sizes
  (from the sums of squares of the classic one-way ANOVA, truncated at 0 as effectsize does);
  ``epsilon_sq`` is **not** the Kruskal-Wallis rank epsilon-squared
  (``effectsize::rank_epsilon_squared``), which is a different quantity;
* ``.pairwise``: Games-Howell as ``rstatix::games_howell_test`` / PMCMRplus (Welch standard error
  and df, p from the studentized range with k groups), with Hedges' g and its CI as
  ``effectsize::hedges_g(group2, group1)`` (pooled SD, exact correction, noncentral-t CI).

Group order is the order of the categories when ``between`` is categorical, else sorted.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd
from scipy import stats

from ipo_research.analysis._common import hedges_j, numeric_matrix, require_columns
from ipo_research.analysis.change import noncentral_t_ci
from ipo_research.errors import AnalysisError

__all__ = ["GroupComparison", "compare_groups"]


@dataclass(frozen=True)
class GroupComparison:
    """Result of :func:`compare_groups`.

    Attributes
    ----------
    summary
        One row: ``n, k, welch_f, df1, df2, p_welch, kruskal_h, p_kruskal, omega_sq, epsilon_sq``.
    pairwise
        One row per pair of groups: ``group1, group2, n1, n2, mean1, mean2, mean_diff``
        (``mean2 - mean1``), ``se`` (``sqrt((s1^2/n1 + s2^2/n2)/2)``), ``q`` (studentized range
        statistic ``|mean_diff| / se``; rstatix reports ``q / sqrt(2)``), ``df`` (Welch), ``p`` (Games-Howell), ``ci_low``,
        ``ci_high`` (95% simultaneous), ``hedges_g``, ``hedges_g_ci_low``, ``hedges_g_ci_high``.
    groups
        Per group: ``n``, ``mean``, ``sd``, ``median`` (index: the group labels).
    """

    summary: pd.DataFrame
    pairwise: pd.DataFrame
    groups: pd.DataFrame


def _group_levels(series: pd.Series) -> list[object]:
    if isinstance(series.dtype, pd.CategoricalDtype):
        present = set(series.dropna().unique())
        return [c for c in series.cat.categories if c in present]
    return sorted(series.dropna().unique().tolist(), key=lambda v: (str(type(v)), v))


def compare_groups(data: pd.DataFrame, dv: str, between: str) -> GroupComparison:
    r"""Compare a numeric outcome between two or more independent groups.

    Rows with a missing ``dv`` or ``between`` are left out.

    Parameters
    ----------
    data
        One row per respondent.
    dv
        Numeric outcome column.
    between
        Grouping column (for example ``Niveau``: mbo / hbo, or ``Opleiding``).

    Returns
    -------
    GroupComparison
        ``.summary`` (one row): ``n``, ``k`` (groups), Welch's ``welch_f`` with ``df1``, ``df2``,
        ``p_welch``; Kruskal-Wallis ``kruskal_h``, ``p_kruskal``;
        ``omega_sq`` = :math:`\max\{0, (SS_b - df_b MS_w)/(SS_t + MS_w)\}` and
        ``epsilon_sq`` = :math:`\max\{0, (SS_b - df_b MS_w)/SS_t\}`.
        ``.pairwise``: Games-Howell comparisons with Hedges' g.  ``.groups``: descriptives.

    Raises
    ------
    AnalysisError
        Unknown column, non-numeric ``dv``, fewer than 2 groups, a group with fewer than 2
        observations, or a group without variance (Welch's test is then undefined).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"score": [3.1, 3.5, 2.9, 4.0, 4.2, 3.8, 3.0, 4.4],
    ...                    "level": ["mbo", "mbo", "mbo", "hbo", "hbo", "hbo", "mbo", "hbo"]})
    >>> res = compare_groups(df, "score", "level")
    >>> int(res.summary.loc[0, "k"]), list(res.pairwise[["group1", "group2"]].iloc[0])
    (2, ['hbo', 'mbo'])
    """
    require_columns(data, [dv, between], "dv/between")
    y_all = numeric_matrix(data, [dv], "dv")[:, 0]
    g_all = data[between]
    keep = ~np.isnan(y_all) & g_all.notna().to_numpy()
    y = y_all[keep]
    g = g_all[keep]
    levels = _group_levels(g)
    if len(levels) < 2:
        raise AnalysisError(
            f"{between!r} has {len(levels)} group(s) with a value of {dv!r}; at least 2 are needed",
            column=between,
            context={"parameter": "between"},
            hint="choose a grouping column with two or more groups",
        )
    codes = g.to_numpy()
    samples = [y[codes == lev] for lev in levels]
    n_i = np.array([s.size for s in samples], dtype=float)
    for lev, s in zip(levels, samples, strict=True):
        if s.size < 2 or not np.var(s) > 0:
            raise AnalysisError(
                f"group {lev!r} of {between!r} has {s.size} observation(s) of {dv!r} "
                + ("without variance" if s.size >= 2 else "(at least 2 are needed)"),
                column=between,
                context={"parameter": "between", "group": lev},
                hint="merge small groups or leave them out before comparing",
            )
    k = len(levels)
    n = int(n_i.sum())
    m_i = np.array([s.mean() for s in samples])
    v_i = np.array([s.var(ddof=1) for s in samples])

    # Welch (oneway.test, var.equal = FALSE)
    w = n_i / v_i
    sw = w.sum()
    tmp = np.sum((1.0 - w / sw) ** 2 / (n_i - 1.0)) / (k * k - 1.0)
    m_w = np.sum(w * m_i) / sw
    welch_f = np.sum(w * (m_i - m_w) ** 2) / ((k - 1.0) * (1.0 + 2.0 * (k - 2.0) * tmp))
    df2 = 1.0 / (3.0 * tmp)
    p_welch = float(stats.f.sf(welch_f, k - 1, df2))

    # Kruskal-Wallis (kruskal.test)
    kw = stats.kruskal(*samples)

    # ANOVA effect sizes (effectsize on aov)
    grand = y.mean()
    ss_b = float(np.sum(n_i * (m_i - grand) ** 2))
    ss_t = float(np.sum((y - grand) ** 2))
    ms_w = (ss_t - ss_b) / (n - k)
    omega_sq = max(0.0, (ss_b - (k - 1) * ms_w) / (ss_t + ms_w))
    epsilon_sq = max(0.0, (ss_b - (k - 1) * ms_w) / ss_t)

    summary = pd.DataFrame(
        {
            "n": [n],
            "k": [k],
            "welch_f": [float(welch_f)],
            "df1": [float(k - 1)],
            "df2": [float(df2)],
            "p_welch": [p_welch],
            "kruskal_h": [float(kw.statistic)],
            "p_kruskal": [float(kw.pvalue)],
            "omega_sq": [omega_sq],
            "epsilon_sq": [epsilon_sq],
        }
    )

    rows = []
    for i, j in combinations(range(k), 2):
        a, b = samples[i], samples[j]
        va, vb = v_i[i] / n_i[i], v_i[j] / n_i[j]
        diff = m_i[j] - m_i[i]
        se = np.sqrt((va + vb) / 2.0)
        df = (va + vb) ** 2 / (va**2 / (n_i[i] - 1.0) + vb**2 / (n_i[j] - 1.0))
        q_stat = abs(diff) / se
        p = float(stats.studentized_range.sf(q_stat, k, df))
        q_crit = float(stats.studentized_range.ppf(0.95, k, df))
        # Hedges' g of group2 vs group1 (effectsize::hedges_g(b, a))
        df_g = n_i[i] + n_i[j] - 2.0
        s_pooled = np.sqrt(((n_i[i] - 1) * v_i[i] + (n_i[j] - 1) * v_i[j]) / df_g)
        hn = 1.0 / n_i[i] + 1.0 / n_i[j]
        d = diff / s_pooled
        ncp_low, ncp_high = noncentral_t_ci(d / np.sqrt(hn), df_g)
        j_corr = hedges_j(df_g)
        rows.append(
            {
                "group1": levels[i],
                "group2": levels[j],
                "n1": int(a.size),
                "n2": int(b.size),
                "mean1": float(m_i[i]),
                "mean2": float(m_i[j]),
                "mean_diff": float(diff),
                "se": float(se),
                "q": float(q_stat),
                "df": float(df),
                "p": p,
                "ci_low": float(diff - q_crit * se),
                "ci_high": float(diff + q_crit * se),
                "hedges_g": float(d * j_corr),
                "hedges_g_ci_low": float(ncp_low * np.sqrt(hn) * j_corr),
                "hedges_g_ci_high": float(ncp_high * np.sqrt(hn) * j_corr),
            }
        )
    pairwise = pd.DataFrame(rows)
    groups = pd.DataFrame(
        {
            "n": n_i.astype(int),
            "mean": m_i,
            "sd": np.sqrt(v_i),
            "median": [float(np.median(s)) for s in samples],
        },
        index=pd.Index(levels, name=between),
    )
    return GroupComparison(summary=summary, pairwise=pairwise, groups=groups)
