"""Fit measures exactly as lavaan 0.6 (``fitMeasures``) computes them for ML.

Formulas (``X2`` = model chi-square, ``N`` total sample size, ``G`` groups, the
baseline model is the independence model with free variances and, with a mean
structure, free means in every group; no equality constraints):

- ``cfi = 1 - max(X2 - df, 0) / max(X2 - df, X2b - dfb, 0)`` (1 when both are 0);
- ``tli = 1 - ((X2 - df) dfb) / ((X2b - dfb) df)`` (not truncated, may exceed 1);
- ``rmsea = sqrt(max(X2 / (N df) - 1 / N, 0)) * sqrt(G)``; 90% CI from the
  non-centrality parameter at which ``pchisq(X2, df, ncp)`` is .95 / .05;
  ``rmsea_pvalue`` tests close fit (RMSEA <= .05) with ``ncp = N df .05^2 / G``;
- ``srmr`` is lavaan's ``srmr_bentler``: residuals ``(s_ij - sigma_ij) /
  sqrt(s_ii s_jj)`` over the lower triangle including the diagonal, plus the
  mean residuals ``(m_i - mu_i) / sqrt(s_ii)`` when means are modelled; root
  mean square per group, then averaged with weights ``N_g / N``;
- ``aic = -2 logL + 2 npar``, ``bic = -2 logL + npar log(N)``, with the
  normal log-likelihood at the biased sample moments.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import optimize, stats

from .ml import GroupMoments, Implied


def baseline(data: tuple[GroupMoments, ...]) -> tuple[float, int]:
    """Chi-square and df of the independence (baseline) model."""
    chisq = 0.0
    p = len(data[0].mean)
    for moments in data:
        _, logdet_s = np.linalg.slogdet(moments.cov)
        chisq += moments.n * (float(np.sum(np.log(np.diag(moments.cov)))) - logdet_s)
    return chisq, len(data) * p * (p - 1) // 2


def cfi(chisq: float, df: int, chisq_b: float, df_b: int) -> float:
    """Comparative fit index (lavaan's ``lav_fit_cfi``)."""
    t1 = max(chisq - df, 0.0)
    t2 = max(chisq - df, chisq_b - df_b, 0.0)
    if math.isclose(t1, 0.0, abs_tol=1.5e-8) and math.isclose(t2, 0.0, abs_tol=1.5e-8):
        return 1.0
    return 1.0 - t1 / t2


def tli(chisq: float, df: int, chisq_b: float, df_b: int) -> float:
    """Tucker-Lewis index (lavaan's ``lav_fit_nnfi``)."""
    t1 = (chisq - df) * df_b
    t2 = (chisq_b - df_b) * df
    if df > 0 and abs(t2) > 0:
        return 1.0 - t1 / t2
    return 1.0


def rmsea(chisq: float, df: int, n: int, n_groups: int) -> float:
    """Root mean square error of approximation with ``N`` (lavaan's ``lav_fit_rmsea``)."""
    if df <= 0:
        return 0.0
    return math.sqrt(max(chisq / n / df - 1.0 / n, 0.0)) * math.sqrt(n_groups)


def _ncx2_cdf(x: float, df: int, ncp: float) -> float:
    if ncp <= 0.0:
        return float(stats.chi2.cdf(x, df))
    return float(stats.ncx2.cdf(x, df, ncp))


def rmsea_ci(
    chisq: float, df: int, n: int, n_groups: int, level: float = 0.90
) -> tuple[float, float]:
    """Confidence interval of RMSEA (lavaan's ``lav_fit_rmsea_ci``, exact roots)."""
    if df < 1 or not math.isfinite(chisq):
        return 0.0, 0.0
    upper_p = 1.0 - (1.0 - level) / 2.0
    lower_p = (1.0 - level) / 2.0
    scale = math.sqrt(n_groups)

    def lower_fn(lam: float) -> float:
        return _ncx2_cdf(chisq, df, lam) - upper_p

    def upper_fn(lam: float) -> float:
        return _ncx2_cdf(chisq, df, lam) - lower_p

    if lower_fn(0.0) < 0.0:
        low = 0.0
    else:
        lam_l = optimize.brentq(lower_fn, 0.0, chisq, xtol=1e-12)
        low = math.sqrt(lam_l / (n * df)) * scale
    n_rmsea = max(n, 4.0 * chisq)
    if upper_fn(n_rmsea) > 0.0 or upper_fn(0.0) < 0.0:
        high = 0.0
    else:
        lam_u = optimize.brentq(upper_fn, 0.0, n_rmsea, xtol=1e-12)
        high = math.sqrt(lam_u / (n * df)) * scale
    return low, high


def rmsea_pvalue(chisq: float, df: int, n: int, n_groups: int, h0: float = 0.05) -> float:
    """P-value of the test of close fit (``H0: RMSEA <= h0``)."""
    if df <= 0:
        return float("nan")
    return 1.0 - _ncx2_cdf(chisq, df, n * df * h0**2 / n_groups)


def srmr(data: tuple[GroupMoments, ...], implied: list[Implied], meanstructure: bool) -> float:
    """Standardized root mean square residual (lavaan's ``srmr_bentler``)."""
    n_total = sum(d.n for d in data)
    total = 0.0
    for moments, imp in zip(data, implied, strict=True):
        sd = np.sqrt(np.diag(moments.cov))
        resid = (moments.cov - imp.sigma) / np.outer(sd, sd)
        lower = resid[np.tril_indices_from(resid)]
        ssq = float(np.sum(lower**2))
        count = lower.size
        if meanstructure:
            mean_resid = (moments.mean - imp.mu) / sd
            ssq += float(np.sum(mean_resid**2))
            count += mean_resid.size
        total += moments.n / n_total * math.sqrt(ssq / count)
    return total


def loglik(data: tuple[GroupMoments, ...], implied: list[Implied], meanstructure: bool) -> float:
    """Normal log-likelihood of the model at the biased sample moments."""
    total = 0.0
    for moments, imp in zip(data, implied, strict=True):
        p = len(moments.mean)
        _, logdet = np.linalg.slogdet(imp.sigma)
        sigma_inv = np.linalg.inv(imp.sigma)
        quad = float(np.sum(moments.cov * sigma_inv))
        if meanstructure:
            r = moments.mean - imp.mu
            quad += float(r @ sigma_inv @ r)
        total += -moments.n / 2.0 * (p * math.log(2.0 * math.pi) + logdet + quad)
    return total
