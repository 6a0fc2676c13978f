"""Internal consistency: Cronbach's alpha with Feldt CI, item statistics and omega total.

The numbers follow ``psych::alpha`` and ``psych::omega(x, nfactors = 1)`` (psych 2.2):

* alpha, standardised alpha and the average inter-item correlation come from the
  pairwise-complete covariance matrix ``C = cov(x, use = "pairwise")`` and ``cov2cor(C)``;
* the Feldt 95% CI is ``psych::alpha.ci``: ``1 - (1 - alpha) * qf(p, n - 1, (n - 1)(k - 1))``
  with ``n`` the number of rows passed (psych's ``nsub``);
* item-rest correlations are psych's ``r.drop`` (covariance of the item with the sum of the
  other items over the same pairwise covariance matrix);
* omega total is ``psych::omega(x, nfactors = 1)$omega.tot``: a one-factor minres solution
  (``psych::fa(fm = "minres")``) on the pairwise-complete correlation matrix, items with a
  negative loading flipped (psych's ``flip = TRUE``), and
  ``omega_t = (sum(R*) - sum(1 - lambda^2)) / sum(R*)`` with ``R*`` the flipped matrix.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy import optimize, stats

from ipo_research.analysis._common import FloatArray, numeric_matrix, require_columns
from ipo_research.errors import AnalysisError

__all__ = ["ReliabilityResult", "reliability"]

#: Lower bound of the uniquenesses in psych's minres optimiser (``lower = 0.005``).
_PSI_LOWER = 0.005


@dataclass(frozen=True)
class ReliabilityResult:
    """Result of :func:`reliability`.

    Attributes
    ----------
    summary
        One row: ``n, k, alpha, alpha_ci_low, alpha_ci_high, std_alpha, average_r, omega_total``.
    items
        One row per item (index ``item``): ``n, mean, sd, item_rest_r, alpha_if_deleted,
        omega_if_deleted``.
    """

    summary: pd.DataFrame
    items: pd.DataFrame


# --------------------------------------------------------------------------- covariances
def _pairwise_moments(x: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Pairwise-complete covariance and correlation matrices, as R's ``cov``/``cor``.

    Returns ``(C, R)`` where ``C = cov(x, use = "pairwise")`` (diagonal: each item's variance
    over all its answers) and ``R = cor(x, use = "pairwise")`` (each pair's correlation from
    the rows where both items are answered, with means and SDs from those rows).
    """
    mask = ~np.isnan(x)
    if mask.all():
        c = np.cov(x, rowvar=False)
        sd = np.sqrt(np.diag(c))
        return c, c / np.outer(sd, sd)
    centre = np.nanmean(x, axis=0)
    x0 = np.where(mask, x - centre, 0.0)
    m = mask.astype(float)
    k = x.shape[1]
    # one matrix product gives every pairwise sum: [x0 | x0^2 | m]' [x0 | m]
    left = np.ascontiguousarray(np.hstack([x0, x0 * x0, m]).T)
    sums = left @ np.hstack([x0, m])
    cross = sums[:k, :k]  # sum of x_j x_k over rows where both are present
    s = sums[:k, k:]  # s[j, k]: sum of x_j over rows where j and k are both present
    q = sums[k : 2 * k, k:]  # sum of x_j^2 over the same rows
    n = sums[2 * k :, k:]
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = (cross - s * s.T / n) / (n - 1)
        var_jk = (q - s * s / n) / (n - 1)
        cor = cov / np.sqrt(var_jk * var_jk.T)
    np.fill_diagonal(cor, 1.0)
    return cov, cor


def _alpha(c: FloatArray) -> float:
    k = c.shape[0]
    return float((1.0 - np.trace(c) / c.sum()) * k / (k - 1))


def _feldt(alpha: float, n: int, k: int, level: float = 0.95) -> tuple[float, float]:
    """Feldt CI exactly as ``psych::alpha.ci``."""
    p = 1.0 - level
    df1, df2 = n - 1, (n - 1) * (k - 1)
    low = 1.0 - (1.0 - alpha) * stats.f.ppf(1.0 - p / 2.0, df1, df2)
    high = 1.0 - (1.0 - alpha) * stats.f.ppf(p / 2.0, df1, df2)
    return float(low), float(high)


# --------------------------------------------------------------------------- omega
def _smc(r: FloatArray) -> FloatArray:
    """Squared multiple correlations as ``psych::smc`` (start values of minres)."""
    try:
        inv = np.linalg.inv(r)
    except np.linalg.LinAlgError:
        inv = np.linalg.pinv(r)
    smc = 1.0 - 1.0 / np.diag(inv)
    return np.clip(smc, 0.0, 1.0)


def _first_factor(r: FloatArray, psi: FloatArray) -> FloatArray:
    """Loadings of one factor given uniquenesses: psych's ``FAout.wls``."""
    reduced = r.copy()
    np.fill_diagonal(reduced, np.diag(r) - psi)
    values, vectors = np.linalg.eigh(reduced)
    return vectors[:, -1] * np.sqrt(max(values[-1], 0.0))


def minres_one_factor(r: FloatArray) -> FloatArray:
    """One-factor minres loadings of a correlation matrix, as ``psych::fa(r, 1, fm = "minres")``.

    Minimises the sum of squared off-diagonal residuals over the uniquenesses ``psi``
    (bounded to ``[0.005, 1]`` as psych does) with L-BFGS-B, starting at ``1 - smc``, with the
    exact gradient (psych passes the diagonal residual as an approximate gradient; both vanish
    at the optimum, the iterated principal-axis fixed point ``psi = 1 - lambda^2``).  The
    tolerance is tighter than R's default, so the result is the optimum itself.  Loadings are signed so
    that they sum to a positive number (psych's convention).

    Parameters
    ----------
    r
        A k x k correlation matrix, k >= 3.

    Returns
    -------
    numpy.ndarray
        The k loadings.
    """
    k = r.shape[0]
    lower_idx = np.tril_indices(k, -1)
    upper = max(float(np.max(_smc(r))), 1.0)

    def objective(psi: FloatArray) -> tuple[float, FloatArray]:
        reduced = r.copy()
        np.fill_diagonal(reduced, np.diag(r) - psi)
        values, vectors = np.linalg.eigh(reduced)
        e1, v = values[-1], vectors[:, -1]
        resid = r - e1 * np.outer(v, v)
        np.fill_diagonal(resid, 0.0)
        value = float(np.sum(resid[lower_idx] ** 2))
        # exact gradient by eigen-perturbation: d e1 = -v_k^2, d v = -v_k P[:, k] with
        # P = sum_{m>1} v_m v_m' / (e1 - e_m); f = sum_{i<j} resid_ij^2
        gaps = e1 - values[:-1]
        proj = (vectors[:, :-1] / gaps) @ vectors[:, :-1].T
        a = resid @ v
        grad = v * v * float(v @ a) + 2.0 * e1 * v * (proj @ a)
        return value, grad

    start = np.clip(np.diag(r) - _smc(r), _PSI_LOWER, upper)
    res = optimize.minimize(
        objective,
        start,
        jac=True,
        method="L-BFGS-B",
        bounds=[(_PSI_LOWER, upper)] * k,
        options={"ftol": 1e-15, "gtol": 1e-10, "maxiter": 1000},
    )
    lam = _first_factor(r, res.x)
    if lam.sum() < 0:
        lam = -lam
    return lam


def _omega_total(r: FloatArray) -> float:
    """``psych::omega(x, nfactors = 1)$omega.tot`` from a correlation matrix."""
    if r.shape[0] < 3:
        return float("nan")
    lam = minres_one_factor(r)
    key = np.where(lam < 0, -1.0, 1.0)
    flipped = r * np.outer(key, key)
    vt = float(flipped.sum())
    uniq = float(np.sum(np.diag(r) - lam * lam))
    return (vt - uniq) / vt


# --------------------------------------------------------------------------- public API
def reliability(
    data: pd.DataFrame,
    items: Sequence[str],
    *,
    missing: Literal["pairwise", "listwise"] = "pairwise",
) -> ReliabilityResult:
    r"""Cronbach's alpha with Feldt CI, item statistics and McDonald's omega total.

    Parameters
    ----------
    data
        One row per respondent.
    items
        Names of the item columns (numeric, already reverse-keyed where needed: this function
        never reverses items).
    missing
        ``"pairwise"`` (default, as ``psych::alpha``): every covariance uses the rows where both
        items are answered.  ``"listwise"``: only rows answering every item are used (as
        ``psych::alpha(na.omit(x))``).

    Returns
    -------
    ReliabilityResult
        ``.summary`` (one row) with

        * ``n``: rows used (with ``"pairwise"`` every row passed, as psych's Feldt CI counts them);
        * ``k``: number of items;
        * ``alpha`` = :math:`\frac{k}{k-1}\left(1 - \frac{\operatorname{tr} C}{\sum C}\right)`;
        * ``alpha_ci_low``, ``alpha_ci_high``: Feldt 95% CI,
          :math:`1 - (1-\alpha) F_{1-p}(n-1, (n-1)(k-1))` (``psych::alpha.ci``);
        * ``std_alpha``, ``average_r``: the same on ``cov2cor(C)``;
        * ``omega_total``: ``psych::omega(x, nfactors = 1)$omega.tot`` (NaN for fewer than 3 items).

        ``.items`` (index ``item``): ``n`` answers, ``mean``, ``sd``, ``item_rest_r``
        (psych ``r.drop``), ``alpha_if_deleted`` and ``omega_if_deleted`` (NaN when fewer than
        3 items would remain, where psych's values are not meaningful).

    Raises
    ------
    AnalysisError
        Unknown or non-numeric item column, fewer than 2 items, a constant item (no variance),
        or two items never answered together.

    Notes
    -----
    Checked against ``psych::alpha(x)`` and ``psych::omega(x, nfactors = 1)`` (psych 2.2.9)
    by ``tests/r/reliability_change_groups.R``; agreement is better than 1e-6.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(1)
    >>> latent = rng.normal(size=200)
    >>> df = pd.DataFrame({f"q{i}": np.round(3 + latent + rng.normal(size=200)) for i in range(1, 6)})
    >>> res = reliability(df, [f"q{i}" for i in range(1, 6)])
    >>> list(res.summary.columns)
    ['n', 'k', 'alpha', 'alpha_ci_low', 'alpha_ci_high', 'std_alpha', 'average_r', 'omega_total']
    >>> bool(0.7 < res.summary.loc[0, "alpha"] < 0.95)
    True
    """
    items = list(items)
    require_columns(data, items, "items")
    if len(items) < 2:
        raise AnalysisError(
            f"reliability needs at least 2 items, got {len(items)}",
            context={"parameter": "items"},
            hint="pass all item columns of the (sub)scale",
        )
    if len(set(items)) != len(items):
        dupes = sorted({i for i in items if items.count(i) > 1})
        raise AnalysisError(
            f"items are listed twice: {', '.join(map(repr, dupes))}",
            column=str(dupes[0]),
            context={"parameter": "items"},
            hint="list every item once",
        )
    if missing not in ("pairwise", "listwise"):
        raise AnalysisError(
            f"missing must be 'pairwise' or 'listwise', got {missing!r}",
            context={"parameter": "missing"},
            hint="use missing='pairwise' (psych's default) or missing='listwise'",
        )
    x = numeric_matrix(data, items, "items")
    if missing == "listwise":
        x = x[~np.isnan(x).any(axis=1)]
    n_rows, k = x.shape

    counts = np.sum(~np.isnan(x), axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.nanmean(x, axis=0) if n_rows else np.full(k, np.nan)
        sds = np.nanstd(x, axis=0, ddof=1) if n_rows else np.full(k, np.nan)
    for j, item in enumerate(items):
        if counts[j] < 2 or not np.isfinite(sds[j]) or sds[j] == 0:
            raise AnalysisError(
                f"item {item!r} is constant (no variance over {int(counts[j])} answers)",
                column=str(item),
                context={"parameter": "items"},
                hint="drop the item from the scale or check its recoding",
            )

    c, r = _pairwise_moments(x)
    if not (np.all(np.isfinite(c)) and np.all(np.isfinite(r))):
        bad = np.argwhere(~np.isfinite(c) | ~np.isfinite(r))[0]
        raise AnalysisError(
            f"items {items[bad[0]]!r} and {items[bad[1]]!r} have fewer than 2 answers in common "
            "(or no variance there), so their covariance is undefined",
            column=str(items[bad[0]]),
            context={"parameter": "items"},
            hint="use missing='pairwise' only with overlapping answers, or drop one of the items",
        )

    alpha = _alpha(c)
    r_std = c / np.sqrt(np.outer(np.diag(c), np.diag(c)))  # cov2cor(C), as psych
    std_alpha = float((1.0 - k / r_std.sum()) * k / (k - 1))
    average_r = float((r_std.sum() - k) / (k * (k - 1)))
    ci_low, ci_high = _feldt(alpha, n_rows, k)

    total = c.sum()
    col = c.sum(axis=0)
    diag = np.diag(c)
    rest_var = total - 2.0 * col + diag  # sum(C[-i, -i])
    item_rest = (col - diag) / np.sqrt(diag * rest_var)

    if k >= 3:
        keep = [np.delete(np.arange(k), i) for i in range(k)]
        alpha_drop = np.array([_alpha(c[np.ix_(idx, idx)]) for idx in keep])
        omega_drop = np.array([_omega_total(r[np.ix_(idx, idx)]) for idx in keep])
    else:
        alpha_drop = np.full(k, np.nan)
        omega_drop = np.full(k, np.nan)

    summary = pd.DataFrame(
        {
            "n": [n_rows],
            "k": [k],
            "alpha": [alpha],
            "alpha_ci_low": [ci_low],
            "alpha_ci_high": [ci_high],
            "std_alpha": [std_alpha],
            "average_r": [average_r],
            "omega_total": [_omega_total(r)],
        }
    )
    item_table = pd.DataFrame(
        {
            "n": counts.astype(int),
            "mean": means,
            "sd": sds,
            "item_rest_r": item_rest,
            "alpha_if_deleted": alpha_drop,
            "omega_if_deleted": omega_drop,
        },
        index=pd.Index(items, name="item"),
    )
    return ReliabilityResult(summary=summary, items=item_table)
