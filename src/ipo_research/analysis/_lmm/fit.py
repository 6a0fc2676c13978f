"""Optimise the profiled deviance and compute lmerTest's Satterthwaite df.

Satterthwaite's df for a contrast ``L'beta`` follow lmerTest (Kuznetsova,
Brockhoff and Christensen 2017, J. Stat. Softw. 82(13); functions ``as_lmerModLT``,
``devfun_vp``, ``get_covbeta`` and ``contest1D``)::

    varpar    = (theta, sigma)
    H         = Hessian of devfun_vp(varpar) at the optimum
    A         = 2 H^+                     (pseudo-inverse over eigenvalues > 1e-8)
    g_i       = L' (d vcov(beta) / d varpar_i) L
    df        = 2 (L' vcov(beta) L)^2 / (g' A g)

The derivatives are central differences with Richardson extrapolation (four
halvings of the step, the scheme of R's numDeriv that lmerTest calls), on a
deviance that costs microseconds per evaluation once the ``n``-row
cross-products are formed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import optimize

from ipo_research.analysis._lmm.deviance import ProfiledDeviance


@dataclass(frozen=True)
class FitResult:
    """Numerical results of one fit (no labels).

    Attributes
    ----------
    theta
        Relative covariance parameters at the optimum.
    beta, vcov_beta
        Fixed effects and their covariance matrix.
    sigma
        Residual standard deviation.
    deviance
        Profiled deviance at the optimum (REML criterion or -2 logLik).
    df
        Satterthwaite df of each fixed effect.
    converged
        Whether the optimiser met its criteria and the varpar Hessian is not
        negative in any direction.
    message
        Why the fit is not converged (empty when converged).
    iterations
        Number of optimiser iterations.
    """

    theta: np.ndarray
    beta: np.ndarray
    vcov_beta: np.ndarray
    sigma: float
    deviance: float
    df: np.ndarray
    converged: bool
    message: str
    iterations: int


def _steps(x: np.ndarray, d: float) -> np.ndarray:
    """Initial steps: ``d |x_i|``, but never below ``d * 0.1``.

    numDeriv uses ``d |x_i|`` (and ``d`` near 0); a small off-diagonal theta
    then gets a step so small that rounding in the deviance dominates the second
    differences.  Theta is a ratio of standard deviations, so 0.1 is a safe scale.
    """
    return d * np.maximum(np.abs(x), 0.1)


def _richardson(estimates: list[np.ndarray]) -> np.ndarray:
    """Eliminate the h^2, h^4, ... error terms of estimates at h, h/2, h/4, ..."""
    table = list(estimates)
    for m in range(1, len(table)):
        factor = 4.0**m
        table = [(factor * table[k + 1] - table[k]) / (factor - 1.0) for k in range(len(table) - 1)]
    return table[0]


def hessian(
    f: Callable[[np.ndarray], float], x: np.ndarray, *, d: float = 1e-2, r: int = 4
) -> np.ndarray:
    """Hessian of ``f`` at ``x`` by Richardson-extrapolated central differences.

    Parameters
    ----------
    f
        Scalar function.
    x
        Point.
    d
        Initial step relative to ``|x_i|`` (absolute where ``x_i`` is near 0).
    r
        Number of step halvings.

    Returns
    -------
    ndarray
        Symmetric ``k x k`` matrix.
    """
    k = len(x)
    f0 = f(x)
    h0 = _steps(x, d)
    estimates = []
    for level in range(r):
        h = h0 / 2.0**level
        H = np.empty((k, k))
        plus = np.empty(k)
        minus = np.empty(k)
        for i in range(k):
            e = np.zeros(k)
            e[i] = h[i]
            plus[i] = f(x + e)
            minus[i] = f(x - e)
            H[i, i] = (plus[i] - 2.0 * f0 + minus[i]) / h[i] ** 2
        for i in range(k):
            for j in range(i + 1, k):
                ei = np.zeros(k)
                ej = np.zeros(k)
                ei[i] = h[i]
                ej[j] = h[j]
                val = (f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej) + f(x - ei - ej)) / (
                    4.0 * h[i] * h[j]
                )
                H[i, j] = H[j, i] = val
        estimates.append(H)
    return _richardson(estimates)


def jacobian(
    f: Callable[[np.ndarray], np.ndarray], x: np.ndarray, *, d: float = 1e-2, r: int = 4
) -> np.ndarray:
    """Jacobian of an array-valued ``f``: ``out[..., i] = d f / d x_i``.

    Parameters
    ----------
    f
        Array-valued function.
    x
        Point.
    d, r
        As in :func:`hessian`.

    Returns
    -------
    ndarray
        Shape ``f(x).shape + (len(x),)``.
    """
    h0 = _steps(x, d)
    cols = []
    for i in range(len(x)):
        estimates = []
        for level in range(r):
            e = np.zeros(len(x))
            e[i] = h0[i] / 2.0**level
            estimates.append((f(x + e) - f(x - e)) / (2.0 * e[i]))
        cols.append(_richardson(estimates))
    return np.stack(cols, axis=-1)


def _gradient(f: Callable[[np.ndarray], float], x: np.ndarray) -> np.ndarray:
    """Central-difference gradient (the deviance is defined for negative theta too)."""
    h = 1e-6 * np.maximum(np.abs(x), 0.1)
    g = np.empty(len(x))
    for i in range(len(x)):
        e = np.zeros(len(x))
        e[i] = h[i]
        g[i] = (f(x + e) - f(x - e)) / (2.0 * h[i])
    return g


def _newton_polish(
    f: Callable[[np.ndarray], float], theta: np.ndarray, free: np.ndarray, steps: int = 4
) -> np.ndarray:
    """Refine an optimum with Newton steps on the ``free`` coordinates."""
    fx = f(theta)
    idx = np.flatnonzero(free)
    for _ in range(steps):
        if not len(idx):
            break
        sub = _Restricted(f, theta, idx)
        grad = _gradient(sub, theta[idx])
        H = hessian(sub, theta[idx], d=1e-4, r=1)
        try:
            step = np.linalg.solve(H, grad)
        except np.linalg.LinAlgError:
            break
        if not np.all(np.isfinite(step)) or step @ grad <= 0:
            break  # not a descent direction: keep the quasi-Newton optimum
        candidate = _put(theta, idx, theta[idx] - step)
        fc = f(candidate)
        if not fc <= fx:
            break
        theta, fx = candidate, fc
        if np.max(np.abs(step)) < 1e-10 * max(1.0, float(np.max(np.abs(theta)))):
            break
    return theta


def _put(x: np.ndarray, idx: np.ndarray, values: np.ndarray) -> np.ndarray:
    out = x.copy()
    out[idx] = values
    return out


class _Restricted:
    """``f`` as a function of the coordinates ``idx`` of ``x`` only."""

    def __init__(self, f: Callable[[np.ndarray], float], x: np.ndarray, idx: np.ndarray) -> None:
        self.f, self.x, self.idx = f, x.copy(), idx

    def __call__(self, sub: np.ndarray) -> float:
        return self.f(_put(self.x, self.idx, sub))


def fit(problem: ProfiledDeviance, *, reml: bool, maxiter: int = 1000) -> FitResult:
    """Fit by minimising the profiled deviance over theta.

    Parameters
    ----------
    problem
        The model.
    reml
        REML (lme4's default) or ML.
    maxiter
        Maximum number of optimiser iterations.

    Returns
    -------
    FitResult
        Estimates, Satterthwaite df and convergence diagnostics.
    """
    diagonal = np.isfinite(np.array(problem.lower))
    theta0 = np.where(diagonal, 1.0, 0.0)  # lme4's start: T_k = I

    def objective(theta: np.ndarray) -> float:
        try:
            return problem.deviance(theta, reml)
        except np.linalg.LinAlgError:
            return np.inf

    # The deviance depends on T_k only through T_k T_k', which does not change when a
    # column of T_k changes sign, so it can be minimised without bounds and the signs
    # fixed afterwards (lme4 bounds the diagonal at 0 instead).  A bound-constrained
    # gradient method would stop at a 0 diagonal, where the gradient always vanishes.
    res = optimize.minimize(
        objective,
        theta0,
        jac=lambda t: _gradient(objective, t),
        method="BFGS",
        options={"maxiter": maxiter, "gtol": 1e-3},
    )
    theta = _newton_polish(objective, np.asarray(res.x, dtype=float), np.ones(len(theta0), bool))
    theta = problem.canonical(theta)
    # A variance on the boundary is approached, never reached: put it at 0 as lme4 does
    # when that does not raise the deviance.
    snapped = diagonal & (np.abs(theta) < 1e-2)
    if snapped.any():
        candidate = np.where(snapped, 0.0, theta)
        candidate = _newton_polish(objective, candidate, ~snapped)
        if objective(candidate) <= objective(theta) + 1e-9:
            theta = candidate
        else:
            snapped[:] = False
    grad = np.where(snapped, 0.0, _gradient(objective, theta))
    messages = []
    if res.nit >= maxiter:
        messages.append(f"optimiser stopped after {res.nit} iterations (maximum {maxiter})")
    elif not np.all(np.isfinite(grad)) or np.max(np.abs(grad), initial=0.0) > 2e-3:
        messages.append(
            f"gradient of the deviance at the optimum is {np.max(np.abs(grad)):.2g} "
            "(lme4's tolerance 0.002)"
        )

    ev = problem.evaluate(theta)
    deviance = problem.deviance_from(ev, reml)
    dof = problem.n - problem.p if reml else problem.n
    sigma = float(np.sqrt(ev.r2 / dof))
    vcov_beta = sigma**2 * np.linalg.inv(ev.xtvix)

    varpar = np.append(theta, sigma)
    H = hessian(lambda vp: problem.deviance_vp(vp, reml), varpar)
    evals, evecs = np.linalg.eigh(H)
    tol = 1e-8
    if np.any(evals < -tol):
        messages.append(
            "Hessian of the deviance has negative eigenvalues "
            + " ".join(f"{v:.1e}" for v in evals[evals < -tol])
        )
    pos = evals > tol
    A = 2.0 * (evecs[:, pos] / evals[pos]) @ evecs[:, pos].T
    jac = jacobian(problem.covbeta, varpar)  # (p, p, k)
    var = np.diag(vcov_beta)
    g = np.stack([np.diagonal(jac[:, :, i]) for i in range(jac.shape[2])], axis=1)  # (p, k)
    denom = np.einsum("ji,ik,jk->j", g, A, g)
    with np.errstate(divide="ignore", invalid="ignore"):
        df = 2.0 * var**2 / denom
    return FitResult(
        theta=theta,
        beta=ev.beta,
        vcov_beta=vcov_beta,
        sigma=sigma,
        deviance=float(deviance),
        df=df,
        converged=not messages,
        message="; ".join(messages),
        iterations=int(res.nit),
    )
