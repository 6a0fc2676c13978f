"""Maximum-likelihood estimation of a :class:`~.spec.ModelSpec` (lavaan's ``estimator="ML"``).

The discrepancy function is lavaan's normal-theory ML function with the biased
(divide-by-N) sample moments of each group::

    F_g = log|Sigma| + tr(S Sigma^-1) - log|S| - p + (m - mu)' Sigma^-1 (m - mu)
    F   = sum_g (N_g / N) F_g                  chisq = N F

(lavaan's own ``fmin`` is ``F / 2``; its test statistic is ``2 N fmin``.)

It is minimised by Fisher scoring with step halving: the analytic gradient is
``Delta' d F / d(Sigma, mu)`` and the step uses the expected information
``Delta' W Delta``, the same matrix that gives the standard errors
(``information = "expected"``, lavaan's default for complete data):
``vcov = (N / 2 * H)^-1`` with ``H = sum_g (N_g/N) Delta_g' W_g Delta_g``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits

from .spec import FloatArray, GroupSpec, ModelSpec, fill


@dataclass(frozen=True)
class GroupMoments:
    """Sample moments of one group: ``n`` rows, biased covariance and mean vector."""

    n: int
    cov: FloatArray
    mean: FloatArray


@dataclass(frozen=True)
class Implied:
    """Parameter matrices and model-implied moments of one group."""

    lam: FloatArray
    psi: FloatArray
    theta: FloatArray
    nu: FloatArray
    alpha: FloatArray
    sigma: FloatArray
    mu: FloatArray


@dataclass(frozen=True)
class MlFit:
    """Outcome of :func:`fit_ml`."""

    x: FloatArray
    fmin: float  # F, not lavaan's F / 2
    converged: bool
    iterations: int
    max_gradient: float
    vcov: FloatArray | None


def implied(group: GroupSpec, x: FloatArray) -> Implied:
    """Parameter matrices and implied moments of ``group`` at ``x``."""
    lam = fill(group.lam, group.lam_value, x)
    psi = fill(group.psi, group.psi_value, x)
    theta = fill(group.theta, group.theta_value, x)
    nu = fill(group.nu, group.nu_value, x)
    alpha = fill(group.alpha, group.alpha_value, x)
    sigma = lam @ psi @ lam.T + theta
    mu = nu + lam @ alpha
    return Implied(lam, psi, theta, nu, alpha, sigma, mu)


def _delta(group: GroupSpec, imp: Implied, n_free: int) -> tuple[FloatArray, FloatArray]:
    """Jacobian of ``vec(Sigma)`` (p*p rows) and ``mu`` (p rows) with respect to ``x``."""
    p = imp.lam.shape[0]
    d_sigma = np.zeros((p, p, n_free))
    d_mu = np.zeros((p, n_free))
    lam_psi = imp.lam @ imp.psi
    for i, j in zip(*np.nonzero(group.lam >= 0), strict=True):
        k = group.lam[i, j]
        a = lam_psi[:, j]
        d_sigma[i, :, k] += a
        d_sigma[:, i, k] += a
        d_mu[i, k] += imp.alpha[j]
    for r, c in zip(*np.nonzero(np.tril(group.psi + 1) > 0), strict=True):
        k = group.psi[r, c]
        if r == c:
            d_sigma[:, :, k] += np.outer(imp.lam[:, r], imp.lam[:, r])
        else:
            outer = np.outer(imp.lam[:, r], imp.lam[:, c])
            d_sigma[:, :, k] += outer + outer.T
    for r, c in zip(*np.nonzero(np.tril(group.theta + 1) > 0), strict=True):
        k = group.theta[r, c]
        d_sigma[r, c, k] += 1.0
        if r != c:
            d_sigma[c, r, k] += 1.0
    for i in np.nonzero(group.nu >= 0)[0]:
        d_mu[i, group.nu[i]] += 1.0
    for j in np.nonzero(group.alpha >= 0)[0]:
        d_mu[:, group.alpha[j]] += imp.lam[:, j]
    return d_sigma.reshape(p * p, n_free), d_mu


def _inverse_logdet(sigma: FloatArray) -> tuple[FloatArray, float] | None:
    """Inverse and log-determinant of ``sigma``, or ``None`` if not positive definite."""
    try:
        chol = np.linalg.cholesky(sigma)
    except np.linalg.LinAlgError:
        return None
    logdet = 2.0 * float(np.sum(np.log(np.diag(chol))))
    inv_chol = np.linalg.inv(chol)
    return inv_chol.T @ inv_chol, logdet


def group_discrepancy(moments: GroupMoments, imp: Implied, meanstructure: bool) -> float:
    """``F_g`` of one group (``inf`` when the implied covariance is not positive definite)."""
    inv = _inverse_logdet(imp.sigma)
    if inv is None:
        return float("inf")
    sigma_inv, logdet = inv
    p = len(moments.mean)
    _, logdet_s = np.linalg.slogdet(moments.cov)
    f = logdet + float(np.sum(moments.cov * sigma_inv)) - logdet_s - p
    if meanstructure:
        r = moments.mean - imp.mu
        f += float(r @ sigma_inv @ r)
    return f


def discrepancy(spec: ModelSpec, data: tuple[GroupMoments, ...], x: FloatArray) -> float:
    """Total ``F = sum_g (N_g/N) F_g``."""
    n_total = sum(d.n for d in data)
    total = 0.0
    for group, moments in zip(spec.groups, data, strict=True):
        f = group_discrepancy(moments, implied(group, x), spec.meanstructure)
        if not np.isfinite(f):
            return float("inf")
        total += moments.n / n_total * f
    return total


def derivatives(
    spec: ModelSpec, data: tuple[GroupMoments, ...], x: FloatArray
) -> tuple[float, FloatArray, FloatArray]:
    """``F``, its gradient and its expected Hessian ``H`` at ``x``.

    ``H = sum_g (N_g/N) [Delta_S' (Sigma^-1 kron Sigma^-1) Delta_S + 2 Delta_mu' Sigma^-1 Delta_mu]``.
    """
    n_total = sum(d.n for d in data)
    k = spec.n_free
    f_total = 0.0
    grad = np.zeros(k)
    hess = np.zeros((k, k))
    for group, moments in zip(spec.groups, data, strict=True):
        imp = implied(group, x)
        inv = _inverse_logdet(imp.sigma)
        if inv is None:
            return float("inf"), grad, hess
        sigma_inv, _ = inv
        w = moments.n / n_total
        f_total += w * group_discrepancy(moments, imp, spec.meanstructure)
        d_sigma, d_mu = _delta(group, imp, k)
        g_mat = sigma_inv - sigma_inv @ moments.cov @ sigma_inv
        if spec.meanstructure:
            b = sigma_inv @ (moments.mean - imp.mu)
            g_mat = g_mat - np.outer(b, b)
            grad += w * (d_sigma.T @ g_mat.ravel() - 2.0 * d_mu.T @ b)
            hess += w * 2.0 * d_mu.T @ sigma_inv @ d_mu
        else:
            grad += w * (d_sigma.T @ g_mat.ravel())
        hess += w * d_sigma.T @ np.kron(sigma_inv, sigma_inv) @ d_sigma
    return f_total, grad, hess


def fit_ml(
    spec: ModelSpec,
    data: tuple[GroupMoments, ...],
    start: FloatArray,
    *,
    max_iter: int = 500,
    tol: float = 1e-9,
) -> MlFit:
    """Minimise ``F`` by Fisher scoring with step halving.

    Converged means: the largest absolute gradient element is below ``tol``
    (or the objective stopped changing at machine precision with a gradient
    below ``1e-6``) and the expected information is invertible.
    """
    # The matrices are small (a few hundred rows at most): multi-threaded BLAS only
    # adds thread wake-up latency, which dominates on a busy machine (20x slower on
    # two loaded cores).  Run the whole fit single-threaded.
    with threadpool_limits(limits=1, user_api="blas"):
        return _fit_ml(spec, data, start, max_iter=max_iter, tol=tol)


def _fit_ml(
    spec: ModelSpec,
    data: tuple[GroupMoments, ...],
    start: FloatArray,
    *,
    max_iter: int,
    tol: float,
) -> MlFit:
    x = start.astype(float).copy()
    f, grad, hess = derivatives(spec, data, x)
    if not np.isfinite(f):
        return MlFit(x, f, False, 0, float("inf"), None)
    converged = False
    iterations = 0
    while iterations < max_iter:
        iterations += 1
        if float(np.max(np.abs(grad))) < tol:
            converged = True
            break
        try:
            step = np.linalg.solve(hess, grad)
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(hess, grad, rcond=None)[0]
        t = 1.0
        while t > 1e-10:
            candidate = x - t * step
            f_new = discrepancy(spec, data, candidate)
            if f_new <= f + 1e-14 * max(1.0, abs(f)):
                break
            t /= 2.0
        else:
            # No decrease along the scoring direction: at the optimum within
            # rounding if the gradient is already tiny, otherwise stuck.
            converged = float(np.max(np.abs(grad))) < 1e-6
            break
        x = candidate
        f_old = f
        f, grad, hess = derivatives(spec, data, x)
        if abs(f_old - f) <= 1e-15 * max(1.0, abs(f)) and float(np.max(np.abs(grad))) < 1e-6:
            converged = True
            break
    max_grad = float(np.max(np.abs(grad))) if grad.size else 0.0
    vcov: FloatArray | None = None
    n_total = sum(d.n for d in data)
    try:
        if np.linalg.matrix_rank(hess) == hess.shape[0]:
            vcov = np.asarray(np.linalg.inv(n_total / 2.0 * hess), dtype=np.float64)
    except np.linalg.LinAlgError:
        vcov = None
    if vcov is None:
        converged = False
    return MlFit(x, f, converged, iterations, max_grad, vcov)


def _block_loadings(s: FloatArray, group: GroupSpec, j: int) -> dict[int, float]:
    """Loadings of factor ``j`` from the first principal component of its item block."""
    rows = [int(i) for i in np.nonzero((group.lam[:, j] >= 0) | (group.lam_value[:, j] != 0))[0]]
    marker = int(np.nonzero(group.lam_value[:, j] != 0)[0][0])
    values, vectors = np.linalg.eigh(s[np.ix_(rows, rows)])
    comp = vectors[:, -1] * np.sqrt(max(values[-1], 1e-12))
    at_marker = float(comp[rows.index(marker)])
    if abs(at_marker) < 1e-3 * float(np.max(np.abs(comp))):
        at_marker = float(np.max(np.abs(comp)))
    return {i: float(comp[r] / at_marker) for r, i in enumerate(rows)}


def start_values(spec: ModelSpec, data: tuple[GroupMoments, ...]) -> FloatArray:
    """Starting values from each factor's item block.

    Loadings are the first principal component of the factor's items divided by
    the marker's (from the pooled covariance matrix when loadings are equal across
    groups); given those, each group's factor variance is the least-squares fit
    ``sum l_i l_k s_ik / sum l_i^2 l_k^2`` over the block's item pairs, factor
    covariances the same over cross-block pairs (kept inside a correlation of
    .8), residual variances what the factor leaves (at least 10% of the item
    variance), intercepts the sample means (pooled when equal) and latent means 0.
    """
    n_total = sum(d.n for d in data)
    weights = np.array([d.n / n_total for d in data])
    pooled_cov = np.einsum("g,gij->ij", weights, np.stack([d.cov for d in data]))
    pooled_mean = weights @ np.stack([d.mean for d in data])
    counts = np.bincount(
        np.concatenate([np.concatenate([g.lam.ravel(), g.nu]) for g in spec.groups]) + 1,
        minlength=spec.n_free + 1,
    )[1:]
    x = np.zeros(spec.n_free)
    for group, moments in zip(spec.groups, data, strict=True):
        s = moments.cov
        p, m = group.lam.shape
        lam = group.lam_value.copy()
        for j in range(m):
            shared = any(counts[k] > 1 for k in group.lam[:, j] if k >= 0)
            source = pooled_cov if shared else s
            for i, value in _block_loadings(source, group, j).items():
                if group.lam[i, j] >= 0:
                    lam[i, j] = value
        psi = np.zeros((m, m))
        off = ~np.eye(p, dtype=bool)
        for a in range(m):
            for b in range(a + 1):
                outer = np.outer(lam[:, a], lam[:, b])
                if a == b:
                    outer = outer * off
                denom = float(np.sum(outer**2))
                psi[a, b] = float(np.sum(outer * s)) / denom if denom > 1e-12 else 0.0
            marker = int(np.nonzero(group.lam_value[:, a] != 0)[0][0])
            psi[a, a] = max(psi[a, a], 0.05 * s[marker, marker])
        for a in range(m):
            for b in range(a):
                bound = 0.8 * np.sqrt(psi[a, a] * psi[b, b])
                psi[a, b] = psi[b, a] = float(np.clip(psi[a, b], -bound, bound))
        common = np.diag(lam @ psi @ lam.T)
        theta = np.maximum(np.diag(s) - common, 0.1 * np.diag(s))
        for i in range(p):
            for j in range(m):
                if group.lam[i, j] >= 0:
                    x[group.lam[i, j]] = lam[i, j]
            x[group.theta[i, i]] = theta[i]
            if group.nu[i] >= 0:
                x[group.nu[i]] = pooled_mean[i] if counts[group.nu[i]] > 1 else moments.mean[i]
        for a in range(m):
            for b in range(a + 1):
                x[group.psi[a, b]] = psi[a, b]
            if group.alpha[a] >= 0:
                x[group.alpha[a]] = 0.0
    return x
