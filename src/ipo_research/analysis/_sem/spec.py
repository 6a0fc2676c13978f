"""Parameter layout of a (multi-group) confirmatory factor model, as lavaan sets it up.

Each group has the LISREL matrices of a measurement model::

    Sigma = Lambda Psi Lambda' + Theta        mu = nu + Lambda alpha

Every cell of every matrix is either fixed (``index == -1``, value in ``*_value``)
or maps to one entry of the free-parameter vector.  Equality constraints across
groups (lavaan's ``group.equal``) simply reuse the same index.

lavaan defaults reproduced here (``cfa()``): the first indicator of each factor
has its loading fixed to 1 (marker variable), factor variances and covariances
are free, residual variances are free and residual covariances zero.  With a mean
structure (multi-group models) intercepts are free, latent means are fixed to 0,
except that equal intercepts free the latent means in groups 2 and up.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

#: Equality constraints understood by :func:`build_spec` (names as in lavaan).
EQUALITY_KINDS = ("loadings", "intercepts")


@dataclass(frozen=True)
class FreeParameter:
    """Where a free parameter lives (its first occurrence)."""

    matrix: str  # "lambda", "psi", "theta", "nu", "alpha"
    group: int
    row: int
    col: int


@dataclass(frozen=True)
class GroupSpec:
    """Index and fixed-value matrices of one group (``-1`` marks a fixed cell)."""

    lam: IntArray
    lam_value: FloatArray
    psi: IntArray
    psi_value: FloatArray
    theta: IntArray
    theta_value: FloatArray
    nu: IntArray
    nu_value: FloatArray
    alpha: IntArray
    alpha_value: FloatArray


@dataclass(frozen=True)
class ModelSpec:
    """A complete model: observed items, factors, groups and free parameters."""

    items: tuple[str, ...]
    factors: tuple[str, ...]
    groups: tuple[GroupSpec, ...]
    free: tuple[FreeParameter, ...]
    meanstructure: bool

    @property
    def n_free(self) -> int:
        """Number of free parameters (lavaan's ``npar``)."""
        return len(self.free)

    @property
    def n_moments(self) -> int:
        """Number of sample moments over all groups."""
        p = len(self.items)
        per_group = p * (p + 1) // 2 + (p if self.meanstructure else 0)
        return per_group * len(self.groups)

    @property
    def df(self) -> int:
        """Model degrees of freedom."""
        return self.n_moments - self.n_free


def model_items(model: Mapping[str, Sequence[str]]) -> tuple[str, ...]:
    """Observed items in order of first appearance in ``model``."""
    seen: dict[str, None] = {}
    for items in model.values():
        for item in items:
            seen.setdefault(item, None)
    return tuple(seen)


def build_spec(
    model: Mapping[str, Sequence[str]],
    *,
    n_groups: int = 1,
    equal: Sequence[str] = (),
    meanstructure: bool | None = None,
) -> ModelSpec:
    """Lay out the free parameters of a correlated-factors CFA.

    Parameters
    ----------
    model
        Factor name -> indicator names; the first indicator is the marker.
    n_groups
        Number of groups.
    equal
        Parameters held equal across groups: any of ``"loadings"``, ``"intercepts"``.
    meanstructure
        Whether means are modelled; defaults to ``n_groups > 1`` as in lavaan.

    Returns
    -------
    ModelSpec
    """
    if meanstructure is None:
        meanstructure = n_groups > 1
    items = model_items(model)
    factors = tuple(model)
    p, m = len(items), len(factors)
    pos = {item: i for i, item in enumerate(items)}
    free: list[FreeParameter] = []
    shared_lam: dict[tuple[int, int], int] = {}
    shared_nu: dict[int, int] = {}

    def new(matrix: str, g: int, r: int, c: int) -> int:
        free.append(FreeParameter(matrix, g, r, c))
        return len(free) - 1

    groups: list[GroupSpec] = []
    for g in range(n_groups):
        lam = np.full((p, m), -1, dtype=np.int64)
        lam_value = np.zeros((p, m))
        for j, factor in enumerate(factors):
            for k, item in enumerate(model[factor]):
                i = pos[item]
                if k == 0:
                    lam_value[i, j] = 1.0
                elif "loadings" in equal and g > 0:
                    lam[i, j] = shared_lam[(i, j)]
                else:
                    lam[i, j] = new("lambda", g, i, j)
                    shared_lam.setdefault((i, j), lam[i, j])
        theta = np.full((p, p), -1, dtype=np.int64)
        for i in range(p):
            theta[i, i] = new("theta", g, i, i)
        psi = np.full((m, m), -1, dtype=np.int64)
        for c in range(m):
            for r in range(c, m):
                psi[r, c] = psi[c, r] = new("psi", g, r, c)
        nu = np.full(p, -1, dtype=np.int64)
        alpha = np.full(m, -1, dtype=np.int64)
        if meanstructure:
            for i in range(p):
                if "intercepts" in equal and g > 0:
                    nu[i] = shared_nu[i]
                else:
                    nu[i] = new("nu", g, i, 0)
                    shared_nu.setdefault(i, nu[i])
            if "intercepts" in equal and g > 0:
                for j in range(m):
                    alpha[j] = new("alpha", g, j, 0)
        groups.append(
            GroupSpec(
                lam=lam,
                lam_value=lam_value,
                psi=psi,
                psi_value=np.zeros((m, m)),
                theta=theta,
                theta_value=np.zeros((p, p)),
                nu=nu,
                nu_value=np.zeros(p),
                alpha=alpha,
                alpha_value=np.zeros(m),
            )
        )
    return ModelSpec(
        items=items,
        factors=factors,
        groups=tuple(groups),
        free=tuple(free),
        meanstructure=meanstructure,
    )


def fill(index: IntArray, value: FloatArray, x: FloatArray) -> FloatArray:
    """Return ``value`` with the free cells of ``index`` taken from ``x``."""
    out = value.copy()
    mask = index >= 0
    out[mask] = x[index[mask]]
    return out
