"""lme4's profiled (RE)ML deviance for linear mixed models.

Notation follows Bates, Maechler, Bolker and Walker (2015), "Fitting Linear
Mixed-Effects Models Using lme4", J. Stat. Softw. 67(1), section 3.  With
``b = Lambda_theta u``, ``u ~ N(0, sigma^2 I)`` and ``A = Lambda' Z'Z Lambda + I``::

    V / sigma^2 = I + Z Lambda Lambda' Z'          log|V / sigma^2| = log|A|
    X'V^-1 X sigma^2 = X'X - X'Z Lambda A^-1 Lambda' Z'X          (= RX'RX)
    r^2(theta) = min_beta (y - X beta)' (V / sigma^2)^-1 (y - X beta)

    ML:   d(theta) = log|A| + n (1 + log(2 pi r^2 / n))
    REML: d(theta) = log|A| + log|RX'RX| + (n - p)(1 + log(2 pi r^2 / (n - p)))

All cross-products with ``n`` rows are formed once; an evaluation only touches
``q x q`` quantities.  ``A`` is factored by blocks: the random-effects term with
the most levels (lme4 puts it first) gives a block-diagonal ``A11`` (one
``p1 x p1`` block per level, factored in one batched call); the remaining terms
are eliminated through the dense Schur complement
``S = A22 - A21 A11^-1 A12``, whose size is the number of random effects of the
other terms (for ``(1 | team/student)``: the number of teams).  This needs no
sparse Cholesky (no CHOLMOD) and keeps nested designs cheap.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp


@dataclass(frozen=True)
class ReTerm:
    """Design of one random-effects term.

    Attributes
    ----------
    name
        Group label (``team``, ``team:student``).
    columns
        Names of the random-effect columns (``(Intercept)``, ``wavepost``).
    X
        ``n x p_k`` matrix of the term's covariates.
    codes
        Level (0..m-1) of every observation.
    nlevels
        Number of levels ``m``.
    """

    name: str
    columns: tuple[str, ...]
    X: np.ndarray
    codes: np.ndarray
    nlevels: int

    @property
    def ncol(self) -> int:
        """Number of random effects per level."""
        return self.X.shape[1]

    @property
    def ntheta(self) -> int:
        """Number of covariance parameters (lower triangle of ``T_k``)."""
        return self.ncol * (self.ncol + 1) // 2


@dataclass(frozen=True)
class Evaluation:
    """Quantities at one value of theta.

    Attributes
    ----------
    logdet_a
        ``log|A|`` (lme4's ``ldL2``).
    xtvix
        ``X' (V/sigma^2)^-1 X`` (``RX'RX``).
    beta
        GLS estimate of the fixed effects.
    r2
        Penalised residual sum of squares at the conditional modes.
    logdet_xtvix
        ``log|RX'RX|`` (lme4's ``2 log|RX|``).
    """

    logdet_a: float
    xtvix: np.ndarray
    beta: np.ndarray
    r2: float
    logdet_xtvix: float


def _lower_indices(p: int) -> tuple[np.ndarray, np.ndarray]:
    """Row/column indices of a lower triangle in lme4's column-major theta order."""
    rows, cols = [], []
    for j in range(p):
        for i in range(j, p):
            rows.append(i)
            cols.append(j)
    return np.array(rows, dtype=np.intp), np.array(cols, dtype=np.intp)


class ProfiledDeviance:
    """The profiled deviance of one linear mixed model, as a function of theta.

    Parameters
    ----------
    X
        ``n x p`` fixed-effects model matrix of full column rank.
    y
        Response.
    terms
        Random-effects terms, in lme4's order (most levels first).
    """

    def __init__(self, X: np.ndarray, y: np.ndarray, terms: Sequence[ReTerm]) -> None:
        self.n, self.p = X.shape
        self.terms = tuple(terms)
        Xy = np.column_stack([X, y])
        self.XytXy = Xy.T @ Xy
        self.theta_slices: list[slice] = []
        self.lower: list[float] = []
        start = 0
        for term in self.terms:
            rows, cols = _lower_indices(term.ncol)
            self.theta_slices.append(slice(start, start + term.ntheta))
            self.lower.extend(0.0 if r == c else -np.inf for r, c in zip(rows, cols, strict=True))
            start += term.ntheta
        self.ntheta = start

        # Term 1: block-diagonal part.
        t1 = self.terms[0]
        self.p1, self.m1 = t1.ncol, t1.nlevels
        self.q1 = self.p1 * self.m1
        C1 = np.empty((self.m1, self.p1, self.p1))
        for a in range(self.p1):
            for b in range(a, self.p1):
                C1[:, a, b] = np.bincount(t1.codes, t1.X[:, a] * t1.X[:, b], minlength=self.m1)
                C1[:, b, a] = C1[:, a, b]
        self.C1 = C1
        ZtXy1 = np.empty((self.m1, self.p1, self.p + 1))
        for a in range(self.p1):
            w = Xy * t1.X[:, [a]]
            for c in range(self.p + 1):
                ZtXy1[:, a, c] = np.bincount(t1.codes, w[:, c], minlength=self.m1)
        self.ZtXy1 = ZtXy1

        # Other terms: Z1'Z2 as (level-of-term-1, column) pairs, Z2'Z2 dense.
        self.q2 = sum(t.ncol * t.nlevels for t in self.terms[1:])
        if self.q2:
            Z1 = self._z_block(self.terms[:1])
            Z2 = self._z_block(self.terms[1:])
            self.C22 = (Z2.T @ Z2).toarray()
            self.ZtXy2 = np.asarray(Z2.T @ Xy)
            B = (Z1.T @ Z2).tocoo()
            self.Bt = B.T.tocsr()
            self._pairs(B)

    def _z_block(self, terms: Sequence[ReTerm]) -> sp.csc_matrix:
        data, rows, cols = [], [], []
        offset = 0
        obs = np.arange(self.n)
        for term in terms:
            for j in range(term.ncol):
                data.append(term.X[:, j])
                rows.append(obs)
                cols.append(offset + term.codes * term.ncol + j)
            offset += term.ncol * term.nlevels
        return sp.csc_matrix(
            (np.concatenate(data), (np.concatenate(rows), np.concatenate(cols))),
            shape=(self.n, offset),
        )

    def _pairs(self, B: sp.coo_matrix) -> None:
        """Index the products needed for ``Z2'Z1 W Z1'Z2`` with block-diagonal ``W``.

        For every level ``j`` of term 1 and every two non-zeros ``(j p1 + i, a)`` and
        ``(j p1 + i', b)`` of ``Z1'Z2``, store ``j, i, i', a q2 + b`` and the product of
        the two values; then ``(Z2'Z1 W Z1'Z2)[a, b] = sum W_j[i, i'] * product``.
        """
        level = B.row // self.p1
        order = np.argsort(level, kind="stable")
        lev, within = level[order], (B.row % self.p1)[order]
        col, val = B.col[order], B.data[order]
        counts = np.bincount(lev, minlength=self.m1)
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        size = counts[lev]
        first = np.repeat(np.arange(len(lev)), size)
        offsets = np.arange(len(first)) - np.repeat(np.cumsum(size) - size, size)
        second = starts[lev[first]] + offsets
        self.pair_level = lev[first]
        self.pair_i = within[first]
        self.pair_j = within[second]
        self.pair_cell = col[first] * self.q2 + col[second]
        self.pair_value = val[first] * val[second]

    def relative_factor(self, theta: np.ndarray, k: int) -> np.ndarray:
        """The lower-triangular ``T_k`` of term ``k`` (``Lambda_k = I (x) T_k``)."""
        p = self.terms[k].ncol
        T = np.zeros((p, p))
        rows, cols = _lower_indices(p)
        T[rows, cols] = theta[self.theta_slices[k]]
        return T

    def canonical(self, theta: np.ndarray) -> np.ndarray:
        """Flip the sign of every column of ``T_k`` whose diagonal is negative.

        ``T_k T_k'`` (and so the deviance) does not change; the result has the
        non-negative diagonals lme4 reports.
        """
        theta = np.array(theta, dtype=float)
        for k, term in enumerate(self.terms):
            T = self.relative_factor(theta, k)
            T = T * np.where(np.diag(T) < 0, -1.0, 1.0)[None, :]
            rows, cols = _lower_indices(term.ncol)
            theta[self.theta_slices[k]] = T[rows, cols]
        return theta

    def _times_lambda2(self, D: np.ndarray, theta: np.ndarray) -> np.ndarray:
        """``D @ Lambda2`` for the terms after the first (block by block)."""
        out = np.empty_like(D)
        offset = 0
        for k, term in enumerate(self.terms[1:], start=1):
            width = term.ncol * term.nlevels
            block = D[:, offset : offset + width]
            if term.ncol == 1:
                out[:, offset : offset + width] = block * theta[self.theta_slices[k]][0]
            else:
                T = self.relative_factor(theta, k)
                shaped = block.reshape(D.shape[0], term.nlevels, term.ncol) @ T
                out[:, offset : offset + width] = shaped.reshape(D.shape[0], width)
            offset += width
        return out

    def _blocks_2x2(self, T: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        """``log|A11|``, ``Wblk`` and ``v`` for 2 x 2 blocks in closed form.

        Batched LAPACK calls on hundreds of 2 x 2 matrices cost more in overhead than
        the arithmetic; this is the same algebra written out elementwise.
        """
        t0, t1, t2 = T[0, 0], T[1, 0], T[1, 1]
        c00, c01, c11 = self.C1[:, 0, 0], self.C1[:, 0, 1], self.C1[:, 1, 1]
        ct00, ct01 = c00 * t0 + c01 * t1, c01 * t2
        ct10, ct11 = c01 * t0 + c11 * t1, c11 * t2
        a00 = t0 * ct00 + t1 * ct10 + 1.0
        a01 = t0 * ct01 + t1 * ct11
        a11 = t2 * ct11 + 1.0
        det = a00 * a11 - a01 * a01
        if not np.all(det > 0):
            raise np.linalg.LinAlgError("a block of A is not positive definite")
        i00, i01, i11 = a11 / det, -a01 / det, a00 / det
        w00 = t0 * t0 * i00
        w01 = t0 * (i00 * t1 + i01 * t2)
        w11 = (t1 * i00 + t2 * i01) * t1 + (t1 * i01 + t2 * i11) * t2
        z0, z1 = self.ZtXy1[:, 0, :], self.ZtXy1[:, 1, :]
        v = np.empty((self.m1, 2, self.p + 1))
        v[:, 0, :] = w00[:, None] * z0 + w01[:, None] * z1
        v[:, 1, :] = w01[:, None] * z0 + w11[:, None] * z1
        wblk = np.empty((self.m1, 2, 2))
        wblk[:, 0, 0], wblk[:, 0, 1], wblk[:, 1, 0], wblk[:, 1, 1] = w00, w01, w01, w11
        return float(np.log(det).sum()), wblk, v.reshape(self.q1, self.p + 1)

    def evaluate(self, theta: np.ndarray) -> Evaluation:
        """Penalised least squares at ``theta``.

        Parameters
        ----------
        theta
            Covariance parameters in lme4's order (``getME(fit, "theta")``).

        Returns
        -------
        Evaluation
            Log-determinants, ``X'V^-1X``, beta and ``r^2``.

        Raises
        ------
        numpy.linalg.LinAlgError
            When ``A`` or ``X'V^-1X`` is not positive definite.
        """
        theta = np.asarray(theta, dtype=float)
        T1 = self.relative_factor(theta, 0)
        # Wblk_j = Lambda1_j A11_j^-1 Lambda1_j'  and  v = blockdiag(Wblk) Z1'[X y]
        if self.p1 == 1:
            t = T1[0, 0]
            d = t * t * self.C1[:, 0, 0] + 1.0
            logdet = float(np.log(d).sum())
            wblk = (t * t / d)[:, None, None]
            v = wblk[:, :, 0] * self.ZtXy1[:, 0, :]
        elif self.p1 == 2:
            logdet, wblk, v = self._blocks_2x2(T1)
        else:
            A11 = T1.T @ self.C1 @ T1
            A11 += np.eye(self.p1)
            L1 = np.linalg.cholesky(A11)
            logdet = float(2.0 * np.log(np.diagonal(L1, axis1=1, axis2=2)).sum())
            half = np.linalg.solve(L1, np.broadcast_to(T1.T, A11.shape))  # L1^-1 T1'
            wblk = np.swapaxes(half, 1, 2) @ half
            v = (wblk @ self.ZtXy1).reshape(self.q1, self.p + 1)
        MAM = self.ZtXy1.reshape(self.q1, self.p + 1).T @ v
        if self.q2:
            weights = wblk[self.pair_level, self.pair_i, self.pair_j] * self.pair_value
            middle = np.bincount(self.pair_cell, weights, minlength=self.q2 * self.q2)
            inner = self.C22 - middle.reshape(self.q2, self.q2)
            S = self._times_lambda2(self._times_lambda2(inner, theta).T, theta)
            S[np.diag_indices_from(S)] += 1.0
            Ls = sla.cholesky(S, lower=True, check_finite=False)
            M2 = self._times_lambda2((self.ZtXy2 - self.Bt @ v).T, theta).T
            R2 = sla.solve_triangular(Ls, M2, lower=True, check_finite=False)
            MAM = MAM + R2.T @ R2
            logdet += float(2.0 * np.log(np.diag(Ls)).sum())
        G = self.XytXy - MAM
        p = self.p
        xtvix = G[:p, :p]
        RX = sla.cholesky(xtvix, lower=False, check_finite=False)
        beta = sla.cho_solve((RX, False), G[:p, p], check_finite=False)
        r2 = float(G[p, p] - G[:p, p] @ beta)
        return Evaluation(
            logdet_a=logdet,
            xtvix=xtvix,
            beta=beta,
            r2=r2,
            logdet_xtvix=float(2.0 * np.log(np.diag(RX)).sum()),
        )

    def deviance(self, theta: np.ndarray, reml: bool) -> float:
        """Profiled deviance (lme4's REML criterion or -2 log-likelihood)."""
        ev = self.evaluate(theta)
        return self.deviance_from(ev, reml)

    def deviance_from(self, ev: Evaluation, reml: bool) -> float:
        """Profiled deviance from an :class:`Evaluation`."""
        if reml:
            nmp = self.n - self.p
            return ev.logdet_a + ev.logdet_xtvix + nmp * (1.0 + np.log(2.0 * np.pi * ev.r2 / nmp))
        return ev.logdet_a + self.n * (1.0 + np.log(2.0 * np.pi * ev.r2 / self.n))

    def deviance_vp(self, varpar: np.ndarray, reml: bool) -> float:
        """Deviance as a function of ``(theta, sigma)`` (lmerTest's ``devfun_vp``)."""
        sigma2 = varpar[-1] ** 2
        ev = self.evaluate(varpar[:-1])
        dev = ev.logdet_a + ev.r2 / sigma2 + self.n * np.log(2.0 * np.pi * sigma2)
        if reml:
            dev += ev.logdet_xtvix - self.p * np.log(2.0 * np.pi * sigma2)
        return float(dev)

    def covbeta(self, varpar: np.ndarray) -> np.ndarray:
        """``vcov(beta)`` as a function of ``(theta, sigma)`` (lmerTest's ``get_covbeta``)."""
        ev = self.evaluate(varpar[:-1])
        return varpar[-1] ** 2 * np.linalg.inv(ev.xtvix)
