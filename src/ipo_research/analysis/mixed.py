"""Linear mixed models that agree with lme4 (REML/ML) and lmerTest (Satterthwaite df).

The model is fitted as ``lme4::lmer`` fits it: the profiled deviance over the
relative covariance parameters theta (Bates et al. 2015, section 3), minimised
with bounds ``theta >= 0`` on the diagonal of each relative covariance factor.
Fixed-effect tests use Satterthwaite's df exactly as ``lmerTest`` computes them
(Hessian of the deviance in ``(theta, sigma)`` and Jacobian of ``vcov(beta)``).
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats
from threadpoolctl import ThreadpoolController

from ipo_research.analysis._lmm.deviance import ProfiledDeviance, ReTerm
from ipo_research.analysis._lmm.fit import fit
from ipo_research.analysis._lmm.formula import (
    group_codes,
    is_factor,
    model_matrix,
    parse_formula,
)
from ipo_research.errors import AnalysisError, ConvergenceWarning

__all__ = ["MixedModelResult", "mixed_model"]

_MAX_SCHUR = 5000
"""Largest number of random effects outside the term with most levels."""


@dataclass(frozen=True)
class MixedModelResult:
    """Result of :func:`mixed_model`.

    Attributes
    ----------
    fixed
        Indexed by term as R names it (``(Intercept)``, ``wavepost``,
        ``wavepost:levelhbo``); columns ``estimate``, ``se``, ``df``
        (Satterthwaite, as lmerTest), ``t`` and ``p`` (two-sided).
    random
        One row per variance component: ``group`` (``team``, ``team:student``,
        ``Residual``), ``term`` (``(Intercept)``, ``wavepost``; empty for the
        residual), ``variance`` and ``sd``.  Rows are in lme4's ``VarCorr`` order.
    correlations
        Correlations between random effects of the same group (models such as
        ``(1 + x | team)``): ``group``, ``term1``, ``term2``, ``covariance`` and
        ``correlation`` -- the rows of ``as.data.frame(VarCorr(fit))`` with a
        non-empty ``var2``.  Empty for random-intercept models.
    icc
        Intraclass correlation: the random-intercept variance of a group over the sum
        of all random-intercept variances plus the residual variance.  A float when
        the model has one random intercept, a Series indexed by group otherwise.
        With random slopes it is the ICC at covariate values 0.
    loglik
        Log-likelihood as ``logLik(fit)`` reports it (the REML criterion times -1/2
        when ``reml=True``).
    converged
        ``False`` when the optimiser or lmerTest's Hessian check failed; a
        :class:`~ipo_research.errors.ConvergenceWarning` was issued then.
    nobs
        Number of observations used (rows with missing values in any used column
        are dropped).
    ngroups
        Number of levels of each grouping factor, indexed by group.
    n_dropped
        Number of rows dropped for missing values.
    sigma
        Residual standard deviation.
    theta
        lme4's relative covariance parameters (``getME(fit, "theta")``).
    reml
        Whether REML was used.
    singular
        Whether the fit is on the boundary (a variance of 0 or a correlation of
        +-1), as ``lme4::isSingular`` reports.
    message
        Why the fit is not converged (empty when converged).
    formula
        The formula as given.
    """

    fixed: pd.DataFrame
    random: pd.DataFrame
    correlations: pd.DataFrame
    icc: float | pd.Series
    loglik: float
    converged: bool
    nobs: int
    ngroups: pd.Series
    n_dropped: int
    sigma: float
    theta: np.ndarray = field(repr=False)
    reml: bool
    singular: bool
    message: str
    formula: str


@functools.cache
def _blas_controller() -> ThreadpoolController:
    """One controller per process (building it scans the loaded libraries)."""
    return ThreadpoolController()


def _check_columns(data: pd.DataFrame, names: list[str], formula: str) -> None:
    for name in names:
        if name not in data.columns:
            raise AnalysisError(
                f"formula {formula!r} names a column that is not in the data",
                column=name,
                hint=f"available columns: {', '.join(map(str, data.columns))}",
            )


def mixed_model(
    data: pd.DataFrame, formula: str, *, reml: bool = True, maxiter: int = 1000
) -> MixedModelResult:
    """Fit a linear mixed model as ``lmerTest::lmer`` does.

    Parameters
    ----------
    data
        One row per observation.  Text, boolean and categorical columns are
        factors with treatment coding; levels sort as R sorts them, unless the
        column is a pandas Categorical, whose category order is used (its first
        category is the reference).
    formula
        lme4 syntax: fixed terms with ``+``, ``*``, ``:``, ``-1``/``0 +``, and
        random terms ``(1 | g)``, ``(1 + x | g)``, ``(x | g)``, ``(0 + x | g)``,
        ``(1 | g1/g2)`` (= ``(1 | g1) + (1 | g1:g2)``) and ``(1 | g1:g2)``.
    reml
        REML (lme4's default) or maximum likelihood.
    maxiter
        Maximum number of optimiser iterations (like lme4's ``maxfun``).

    Returns
    -------
    MixedModelResult
        Fixed effects with Satterthwaite df, variance components, ICC,
        log-likelihood and convergence status.

    Raises
    ------
    AnalysisError
        When the formula names a missing column or cannot be read, the response
        is not numeric, the fixed-effects design is rank deficient, or a grouping
        factor has fewer than 2 levels or as many levels as observations.

    Warns
    -----
    ConvergenceWarning
        When the model did not converge; the result then has ``converged=False``.

    Notes
    -----
    Checked against ``lmerTest::lmer(formula, data, REML = reml)`` with
    ``summary()`` and ``as.data.frame(VarCorr())`` (lme4 1.1-31, lmerTest 3.1-3)
    by ``tests/r/mixed.R``.  Estimates are the minimiser of lme4's profiled deviance
    (Bates, Maechler, Bolker & Walker, 2015, J. Stat. Softw. 67(1)); the df are
    lmerTest's (Kuznetsova, Brockhoff & Christensen, 2017, J. Stat. Softw. 82(13)).

    Differences from lme4 worth knowing:

    * ``(1 | team/student)`` names the inner group ``team:student`` (lme4 prints
      ``student:team``); ``(1 | team) + (1 | team:student)`` is the same model.
    * Text levels sort by code point, as R does in the C locale; pass a pandas
      Categorical to fix the order (and the reference level) explicitly.
    * The optimiser is a quasi-Newton method on the unconstrained Cholesky
      parameterisation followed by Newton steps, not lme4's BOBYQA.  On most data
      the two agree to about 1e-6; on some random-slope models lme4's default
      optimiser stops at a boundary point with a lower likelihood, and this
      function then agrees with ``lmerControl(optimizer = "Nelder_Mead")``.
    * The random-effects terms other than the one with most levels are eliminated
      as one dense matrix, so at most 5,000 such effects are supported (nested
      designs put the many-level term first and stay cheap).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(1)
    >>> team = np.repeat(np.arange(20), 10)
    >>> df = pd.DataFrame({"team": team.astype(str),
    ...                    "wave": np.tile(["pre", "post"], 100),
    ...                    "score": rng.normal(size=20)[team] + rng.normal(size=200)})
    >>> fit = mixed_model(df, "score ~ wave + (1 | team)")
    >>> list(fit.fixed.index)
    ['(Intercept)', 'wavepre']
    >>> list(fit.random["group"])
    ['team', 'Residual']
    """
    if not isinstance(data, pd.DataFrame):
        raise AnalysisError(
            f"data must be a pandas DataFrame, got {type(data).__name__}",
            context={"parameter": "data"},
        )
    parsed = parse_formula(formula)
    used = parsed.variables()
    _check_columns(data, used, formula)
    frame = data.loc[:, used].dropna()
    n_dropped = len(data) - len(frame)
    response = frame[parsed.response]
    if is_factor(response):
        raise AnalysisError(
            f"the response must be numeric, got dtype {response.dtype}",
            column=parsed.response,
            hint="convert the scores to numbers first",
        )
    n = len(frame)
    X, names = model_matrix(frame, parsed.fixed, parsed.intercept)
    if n <= X.shape[1]:
        raise AnalysisError(
            f"only {n} complete rows for {X.shape[1]} fixed effects",
            context={"rows dropped for missing values": n_dropped},
            hint="use fewer predictors or fill the missing values",
        )
    if np.linalg.matrix_rank(X) < X.shape[1]:
        raise AnalysisError(
            "the fixed-effects design is rank deficient "
            f"(columns {', '.join(names)}); some terms are confounded or a level is empty",
            context={"parameter": "formula"},
            hint="drop the redundant term or check the factor levels",
        )

    terms: list[ReTerm] = []
    for spec in parsed.random:
        Xr, rnames = model_matrix(frame, spec.terms, spec.intercept)
        codes, m = group_codes(frame, spec.group)
        if m < 2:
            raise AnalysisError(
                f"grouping factor {spec.group_name!r} has {m} level; it needs at least 2",
                column=spec.group_name,
                hint="drop this random term",
            )
        if m >= n:
            raise AnalysisError(
                f"grouping factor {spec.group_name!r} has {m} levels for {n} observations; "
                "it must have fewer levels than observations",
                column=spec.group_name,
                hint="drop this random term or check the grouping column",
            )
        if Xr.shape[1] == 0:
            raise AnalysisError(
                f"random term for {spec.group_name!r} has no effects",
                context={"parameter": "formula"},
            )
        terms.append(ReTerm(spec.group_name, tuple(rnames), Xr, codes, m))
    nl = np.array([t.nlevels for t in terms])
    if np.any(np.diff(nl) > 0):  # lme4's mkReTrms: rev(order(nl))
        terms = [terms[i] for i in np.argsort(nl, kind="stable")[::-1]]
    q = sum(t.ncol * t.nlevels for t in terms)
    if q > n and any(t.ncol > 1 for t in terms):
        raise AnalysisError(
            f"{n} observations for {q} random effects: the model is not identifiable",
            context={"parameter": "formula"},
            hint="simplify the random-effects structure",
        )

    q_rest = q - terms[0].ncol * terms[0].nlevels
    if q_rest > _MAX_SCHUR:
        raise AnalysisError(
            f"the random-effects terms after {terms[0].name!r} have {q_rest} effects; "
            f"at most {_MAX_SCHUR} are supported (they are factored as one dense matrix)",
            context={"parameter": "formula"},
            hint="large crossed random effects are out of scope; fit them in lme4",
        )
    y = response.to_numpy(dtype=float)
    try:
        # Every matrix here is small; multi-threaded BLAS only adds wake-up latency.
        with _blas_controller().limit(limits=1, user_api="blas"):
            problem = ProfiledDeviance(X, y, terms)
            res = fit(problem, reml=reml, maxiter=maxiter)
    except np.linalg.LinAlgError as exc:
        raise AnalysisError(
            f"the model {formula!r} cannot be fitted: {exc}",
            context={"parameter": "formula"},
            hint="check for constant or collinear predictors",
        ) from exc
    if not res.converged:
        warnings.warn(
            f"mixed model {formula!r} did not converge: {res.message}",
            ConvergenceWarning,
            stacklevel=2,
        )

    se = np.sqrt(np.diag(res.vcov_beta))
    tval = res.beta / se
    fixed = pd.DataFrame(
        {
            "estimate": res.beta,
            "se": se,
            "df": res.df,
            "t": tval,
            "p": 2.0 * stats.t.sf(np.abs(tval), res.df),
        },
        index=pd.Index(names, name="term"),
    )

    rows: list[dict[str, object]] = []
    cors: list[dict[str, object]] = []
    icc_parts: dict[str, float] = {}
    singular = False
    for k, term in enumerate(terms):
        T = problem.relative_factor(res.theta, k)
        singular |= bool(np.any(np.abs(np.diag(T)) < 1e-4))
        cov = res.sigma**2 * (T @ T.T)
        sds = np.sqrt(np.diag(cov))
        for i, col in enumerate(term.columns):
            rows.append({"group": term.name, "term": col, "variance": cov[i, i], "sd": sds[i]})
            if col == "(Intercept)":
                icc_parts[term.name] = icc_parts.get(term.name, 0.0) + cov[i, i]
        for j in range(term.ncol):
            for i in range(j + 1, term.ncol):
                with np.errstate(invalid="ignore", divide="ignore"):
                    corr = cov[i, j] / (sds[i] * sds[j])
                cors.append(
                    {
                        "group": term.name,
                        "term1": term.columns[j],
                        "term2": term.columns[i],
                        "covariance": cov[i, j],
                        "correlation": corr,
                    }
                )
    rows.append({"group": "Residual", "term": "", "variance": res.sigma**2, "sd": res.sigma})
    random = pd.DataFrame(rows, columns=["group", "term", "variance", "sd"])
    correlations = pd.DataFrame(
        cors, columns=["group", "term1", "term2", "covariance", "correlation"]
    )
    total = sum(icc_parts.values()) + res.sigma**2
    icc: float | pd.Series
    if len(icc_parts) == 1:
        icc = float(next(iter(icc_parts.values())) / total)
    elif icc_parts:
        icc = pd.Series({g: v / total for g, v in icc_parts.items()}, name="icc", dtype=float)
    else:
        icc = float("nan")

    return MixedModelResult(
        fixed=fixed,
        random=random,
        correlations=correlations,
        icc=icc,
        loglik=-0.5 * res.deviance,
        converged=res.converged,
        nobs=n,
        ngroups=pd.Series({t.name: t.nlevels for t in terms}, name="ngroups", dtype=int),
        n_dropped=n_dropped,
        sigma=res.sigma,
        theta=res.theta,
        reml=reml,
        singular=singular,
        message=res.message,
        formula=formula,
    )
