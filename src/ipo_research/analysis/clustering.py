"""Clustering of students in leerteams (or institutions): ICC(1) and the design effect.

Two estimators of the intraclass correlation ICC(1) are offered:

* ``method="reml"`` (default): variance components of the random-intercept model
  ``dv ~ 1 + (1 | cluster)`` fitted by REML, ``icc = var_between / (var_between + var_within)``.
  Same model and criterion as ``lme4::lmer(dv ~ 1 + (1 | cluster), REML = TRUE)``; the variance
  components are never negative (a boundary fit gives ``icc = 0``, as lme4's singular fit).
  Preferred with unbalanced clusters.
* ``method="anova"``: the one-way ANOVA estimator as ``multilevel::ICC1`` and
  ``psych::statsBy(...)$ICC1``:
  ``(MSB - MSW) / (MSB + (m - 1) MSW)`` with ``m = N / J`` the mean cluster size (can be negative).

The design effect is Kish's ``1 + (m - 1) ICC``; with unequal cluster sizes the adjustment of
Eldridge, Ashby & Kerry (2006), ``1 + ((1 + cv^2) m - 1) ICC`` with ``cv`` the coefficient of
variation of the cluster sizes (population SD over mean), which equals
``1 + (sum(m_j^2) / sum(m_j) - 1) ICC``.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
from scipy import optimize

from ipo_research.analysis._common import numeric_matrix, require_columns
from ipo_research.errors import AnalysisError

__all__ = ["design_effect", "icc"]


def design_effect(icc: float, mean_cluster_size: float, *, cv: float = 0.0) -> float:
    r"""Design effect of cluster sampling.

    Parameters
    ----------
    icc
        Intraclass correlation ICC(1).
    mean_cluster_size
        Mean number of respondents per cluster, :math:`\bar m \ge 1`.
    cv
        Coefficient of variation of the cluster sizes (population SD / mean); 0 for equal sizes.

    Returns
    -------
    float
        :math:`1 + ((1 + cv^2)\,\bar m - 1)\,ICC` (Kish's :math:`1 + (\bar m - 1) ICC` when
        ``cv = 0``; Eldridge et al., 2006, for unequal sizes).  Divide the sample size by it for
        the effective sample size.

    Raises
    ------
    AnalysisError
        ``mean_cluster_size < 1``, negative ``cv``, or ``icc`` outside [-1, 1].

    Examples
    --------
    >>> design_effect(0.05, 8)
    1.35
    >>> round(design_effect(0.05, 8, cv=0.5), 4)
    1.45
    """
    if not np.isfinite(mean_cluster_size) or mean_cluster_size < 1:
        raise AnalysisError(
            f"mean_cluster_size must be at least 1, got {mean_cluster_size!r}",
            context={"parameter": "mean_cluster_size"},
            hint="pass the mean number of respondents per cluster",
        )
    if not np.isfinite(cv) or cv < 0:
        raise AnalysisError(
            f"cv must be a non-negative number, got {cv!r}",
            context={"parameter": "cv"},
            hint="pass the SD of the cluster sizes divided by their mean, or 0",
        )
    if not np.isfinite(icc) or not -1 <= icc <= 1:
        raise AnalysisError(
            f"icc must lie in [-1, 1], got {icc!r}",
            context={"parameter": "icc"},
            hint="pass an intraclass correlation such as icc(...)['icc']",
        )
    return float(1.0 + ((1.0 + cv * cv) * mean_cluster_size - 1.0) * icc)


def _reml_components(sizes: np.ndarray, means: np.ndarray, ssw: float) -> tuple[float, float]:
    """REML variance components of ``y_ij = mu + u_j + e_ij``; returns (var_between, var_within)."""
    n_total = float(sizes.sum())

    def q_and_w(theta: float) -> tuple[float, float]:
        w = sizes / (1.0 + sizes * theta)
        mu = float(np.sum(w * means) / w.sum())
        return ssw + float(np.sum(w * (means - mu) ** 2)), float(w.sum())

    def deviance(rho: float) -> float:
        theta = rho / (1.0 - rho)
        q, sw = q_and_w(theta)
        return (n_total - 1.0) * np.log(q) + float(np.sum(np.log1p(sizes * theta))) + np.log(sw)

    res = optimize.minimize_scalar(
        deviance, bounds=(0.0, 1.0 - 1e-10), method="bounded", options={"xatol": 1e-13}
    )
    rho = float(res.x)
    if deviance(0.0) <= deviance(rho):
        rho = 0.0
    theta = rho / (1.0 - rho)
    q, _ = q_and_w(theta)
    var_within = q / (n_total - 1.0)
    return theta * var_within, var_within


def icc(
    data: pd.DataFrame,
    dv: str,
    cluster: str,
    *,
    method: Literal["reml", "anova"] = "reml",
) -> pd.DataFrame:
    r"""Intraclass correlation ICC(1) of ``dv`` within ``cluster``, with the design effect.

    Rows with a missing ``dv`` or ``cluster`` are left out.

    Parameters
    ----------
    data
        One row per respondent.
    dv
        Numeric outcome (for example a scale score).
    cluster
        Cluster column (for example ``Leerteam``).
    method
        ``"reml"`` (default; random-intercept model as ``lme4::lmer(dv ~ 1 + (1 | cluster))``)
        or ``"anova"`` (``multilevel::ICC1`` / ``psych::statsBy``).

    Returns
    -------
    pandas.DataFrame
        One row: ``n``, ``n_clusters``, ``mean_cluster_size``, ``cv_cluster_size`` (population
        SD / mean), ``var_between``, ``var_within``, ``icc``, ``design_effect`` (Eldridge's
        adjustment for unequal sizes, :func:`design_effect`), ``method``.  With
        ``method="anova"`` the variance components are the ANOVA moment estimates
        (``var_between = (MSB - MSW) / m``), which may be negative.

    Raises
    ------
    AnalysisError
        Unknown column, non-numeric ``dv``, fewer than 2 clusters, no variation within clusters,
        or an unknown ``method``.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"score": [3.0, 3.4, 3.1, 4.0, 4.3, 3.9, 2.5, 2.9, 2.6],
    ...                    "team": ["a", "a", "a", "b", "b", "b", "c", "c", "c"]})
    >>> res = icc(df, "score", "team")
    >>> bool(res.loc[0, "icc"] > 0.8)
    True
    """
    if method not in ("reml", "anova"):
        raise AnalysisError(
            f"method must be 'reml' or 'anova', got {method!r}",
            context={"parameter": "method"},
            hint="use method='reml' (lme4) or method='anova' (multilevel::ICC1)",
        )
    require_columns(data, [dv, cluster], "dv/cluster")
    y_all = numeric_matrix(data, [dv], "dv")[:, 0]
    keep = ~np.isnan(y_all) & data[cluster].notna().to_numpy()
    frame = pd.DataFrame({"y": y_all[keep], "g": data[cluster].to_numpy()[keep]})
    grouped = frame.groupby("g", sort=True, observed=True)["y"]
    sizes = grouped.size().to_numpy(dtype=float)
    means = grouped.mean().to_numpy(dtype=float)
    n_clusters = sizes.size
    if n_clusters < 2:
        raise AnalysisError(
            f"{cluster!r} has {n_clusters} cluster(s) with a value of {dv!r}; at least 2 are needed",
            column=cluster,
            context={"parameter": "cluster"},
            hint="an ICC needs two or more clusters",
        )
    y = frame["y"].to_numpy()
    n = y.size
    cluster_mean_per_row = grouped.transform("mean").to_numpy(dtype=float)
    ssw = float(np.sum((y - cluster_mean_per_row) ** 2))
    if n <= n_clusters or not ssw > 0:
        raise AnalysisError(
            f"{dv!r} does not vary within the clusters of {cluster!r}",
            column=dv,
            context={"parameter": "dv"},
            hint="an ICC needs clusters with more than one (different) value",
        )
    mean_size = n / n_clusters
    cv = float(np.std(sizes) / mean_size)
    if method == "reml":
        var_b, var_w = _reml_components(sizes, means, ssw)
        value = var_b / (var_b + var_w)
    else:
        grand = y.mean()
        msb = float(np.sum(sizes * (means - grand) ** 2)) / (n_clusters - 1)
        msw = ssw / (n - n_clusters)
        value = (msb - msw) / (msb + (mean_size - 1.0) * msw)
        var_b, var_w = (msb - msw) / mean_size, msw
    return pd.DataFrame(
        {
            "n": [n],
            "n_clusters": [n_clusters],
            "mean_cluster_size": [mean_size],
            "cv_cluster_size": [cv],
            "var_between": [float(var_b)],
            "var_within": [float(var_w)],
            "icc": [float(value)],
            "design_effect": [design_effect(float(np.clip(value, -1, 1)), mean_size, cv=cv)],
            "method": [method],
        }
    )
