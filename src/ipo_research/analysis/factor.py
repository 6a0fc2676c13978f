"""Confirmatory factor analysis and measurement invariance, as lavaan computes them.

The numbers follow ``lavaan::cfa(model, data, estimator = "ML")`` with lavaan's
defaults (checked against lavaan 0.6-14 by ``tests/r/factor.R``):

* **identification** by marker variables: the first item listed for a factor has
  its loading fixed to 1; factor variances and covariances are free (correlated
  factors); residual variances free, residual covariances zero;
* **estimation** by normal-theory maximum likelihood on the *biased* sample
  covariance matrix (divide by N) of the complete cases (``missing = "listwise"``,
  lavaan's default for ML: a row missing any of the model's items, or the group, is
  dropped); ``chisq = N * F_ML`` (lavaan's ``likelihood = "normal"``);
* **standard errors** from the expected information matrix (``se = "standard"``);
* **standardized** estimates are lavaan's ``std.all`` (latent and observed
  variables standardized);
* **fit**: ``cfi`` and ``tli`` against the independence baseline model,
  ``rmsea`` with N (not N - 1) and its 90% CI, ``srmr`` as lavaan reports it
  (``srmr_bentler``; it includes the mean residuals when means are modelled),
  ``aic`` and ``bic`` from the normal log-likelihood.
* **multiple groups** (``group=``): a mean structure is added (free intercepts,
  latent means fixed at 0); ``chisq = sum_g N_g F_g``; ``rmsea`` is multiplied
  by ``sqrt(G)``; ``srmr`` is the ``N_g / N``-weighted mean of the groups' SRMR.
  ``equal=("loadings",)`` and ``equal=("loadings", "intercepts")`` are lavaan's
  ``group.equal``; with equal intercepts the latent means are free in groups 2+.
  Groups are ordered by first appearance in the data, as lavaan does.

The fitting engine lives in the private ``_sem`` package (Fisher scoring with the
analytic gradient; semopy was not used because its fit measures differ from
lavaan's).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ipo_research.errors import AnalysisError, ConvergenceWarning, IpoWarning

from ._sem import measures
from ._sem.ml import GroupMoments, Implied, MlFit, fit_ml, implied, start_values
from ._sem.spec import EQUALITY_KINDS, ModelSpec, build_spec, model_items

__all__ = ["CfaResult", "InvarianceResult", "cfa", "measurement_invariance"]

#: Columns of :attr:`CfaResult.fit`.
FIT_COLUMNS = (
    "n",
    "n_groups",
    "npar",
    "chisq",
    "df",
    "p",
    "cfi",
    "tli",
    "rmsea",
    "rmsea_ci_low",
    "rmsea_ci_high",
    "rmsea_p",
    "srmr",
    "aic",
    "bic",
    "loglik",
    "baseline_chisq",
    "baseline_df",
)

#: Models fitted by :func:`measurement_invariance` and their ``group.equal``.
INVARIANCE_MODELS: dict[str, tuple[str, ...]] = {
    "configural": (),
    "metric": ("loadings",),
    "scalar": ("loadings", "intercepts"),
}


@dataclass(frozen=True)
class CfaResult:
    """Result of :func:`cfa`.

    Attributes
    ----------
    fit
        One row: ``n, n_groups, npar, chisq, df, p, cfi, tli, rmsea, rmsea_ci_low,
        rmsea_ci_high, rmsea_p, srmr, aic, bic, loglik, baseline_chisq, baseline_df``
        (``rmsea_p`` is lavaan's ``rmsea.pvalue``, the test of close fit).  All
        statistics are NaN when the model did not converge.
    loadings
        One row per loading: ``factor, item`` (and ``group`` for multi-group models),
        ``estimate, std_estimate, se, z, p``.  Marker loadings are fixed at 1 and have
        NaN ``se``, ``z`` and ``p``.
    estimates
        Every parameter as ``lavaan::parameterEstimates(fit, standardized = TRUE)``
        lists it: ``lhs, op, rhs`` (``=~`` loading, ``~~`` (co)variance, ``~1``
        intercept or latent mean), ``group`` for multi-group models, ``estimate,
        se, z, p, std_estimate`` (``std.all``) and ``free``.
    converged
        Whether the optimiser converged (if not, a :class:`ConvergenceWarning` was issued).
    groups
        Group labels in model order (empty for a single-group model).
    """

    fit: pd.DataFrame
    loadings: pd.DataFrame
    estimates: pd.DataFrame
    converged: bool
    groups: tuple[str, ...] = ()


@dataclass(frozen=True)
class InvarianceResult:
    """Result of :func:`measurement_invariance`.

    Attributes
    ----------
    fit
        One row per model (index ``model``: ``configural``, ``metric``, ``scalar``) with
        the columns of :attr:`CfaResult.fit` and the chi-square difference test against
        the previous row as ``lavaan::lavTestLRT`` gives it: ``delta_chisq, delta_df,
        delta_p`` and ``delta_rmsea`` (lavaan's RMSEA of the difference); NaN on the
        first row.
    models
        The fitted :class:`CfaResult` of each model, by model name.
    groups
        Group labels in model order (the first is the reference group whose latent
        means are fixed at 0 in the scalar model).
    converged
        Whether all three models converged.
    """

    fit: pd.DataFrame
    models: Mapping[str, CfaResult]
    groups: tuple[str, ...]
    converged: bool


# --------------------------------------------------------------------------- input checks
def _check_model(data: Any, model: Any) -> dict[str, list[str]]:
    if not isinstance(data, pd.DataFrame):
        raise AnalysisError(
            f"data must be a pandas DataFrame, got {type(data).__name__}",
            context={"parameter": "data"},
            hint="pass the survey table as a DataFrame",
        )
    if not isinstance(model, Mapping) or not model:
        raise AnalysisError(
            "model must be a non-empty mapping of factor name to item names",
            context={"parameter": "model"},
            hint='write it as {"F1": ["x1", "x2", "x3"], "F2": [...]}',
        )
    out: dict[str, list[str]] = {}
    for factor, items in model.items():
        if not isinstance(factor, str) or isinstance(items, str) or not isinstance(items, Sequence):
            raise AnalysisError(
                f"factor {factor!r} must map to a list of item names, got {items!r}",
                context={"parameter": "model"},
                hint='write it as {"F1": ["x1", "x2", "x3"]}',
            )
        names = [str(item) for item in items]
        doubled = sorted({n for n in names if names.count(n) > 1})
        if doubled:
            raise AnalysisError(
                f"factor {factor!r} lists item(s) {', '.join(map(repr, doubled))} more than once",
                context={"parameter": "model"},
                hint="list every item once per factor",
            )
        if len(names) < 2:
            raise AnalysisError(
                f"factor {factor!r} has {len(names)} item(s); a factor needs at least 2 to be "
                "identified",
                context={"parameter": "model"},
                hint="add items to the factor or drop it and analyse the item directly",
            )
        if factor in data.columns:
            raise AnalysisError(
                f"factor name {factor!r} is also a column of the data",
                column=factor,
                context={"parameter": "model"},
                hint="give the latent factor a name that is not an observed column",
            )
        out[factor] = names
    unknown = sorted({i for items in out.values() for i in items if i not in data.columns})
    if unknown:
        raise AnalysisError(
            f"unknown item column(s) {', '.join(map(repr, unknown))} in model",
            column=unknown[0],
            context={"parameter": "model"},
            hint=f"choose from the data's columns: {', '.join(map(str, data.columns[:30]))}",
        )
    for item in {i for items in out.values() for i in items}:
        dtype = data[item].dtype
        if pd.api.types.is_bool_dtype(dtype) or not pd.api.types.is_numeric_dtype(dtype):
            raise AnalysisError(
                f"item {item!r} is not numeric (dtype {dtype})",
                column=item,
                context={"parameter": "model"},
                hint="recode the answers to numbers before the analysis",
            )
    return out


def _group_moments(
    data: pd.DataFrame, items: Sequence[str], group: str | None
) -> tuple[tuple[GroupMoments, ...], tuple[str, ...]]:
    """Listwise-complete biased moments per group, groups in order of appearance."""
    if group is not None:
        if group not in data.columns:
            raise AnalysisError(
                f"unknown group column {group!r}",
                column=group,
                context={"parameter": "group"},
                hint=f"choose from the data's columns: {', '.join(map(str, data.columns[:30]))}",
            )
        if group in items:
            raise AnalysisError(
                f"group column {group!r} is also an item of the model",
                column=group,
                context={"parameter": "group"},
                hint="group by a column that is not an indicator",
            )
    values = data[list(items)].to_numpy(dtype=float, na_value=np.nan)
    complete = ~np.isnan(values).any(axis=1)
    if group is None:
        splits: list[tuple[str, np.ndarray]] = [("", values[complete])]
    else:
        notna = data[group].notna().to_numpy()
        text = np.array(
            [
                str(v) if ok else ""
                for v, ok in zip(data[group].to_numpy(dtype=object), notna, strict=True)
            ],
            dtype=object,
        )
        labels = list(dict.fromkeys(text[notna]))
        complete &= notna
        if len(labels) < 2:
            raise AnalysisError(
                f"group column {group!r} has {len(labels)} group(s); invariance needs at least 2",
                column=group,
                context={"parameter": "group"},
                hint="choose a column with two or more groups",
            )
        splits = [(label, values[complete & (text == label)]) for label in labels]
    moments = []
    for label, x in splits:
        where = f" in group {label!r}" if group is not None else ""
        n, p = x.shape
        if n <= p:
            raise AnalysisError(
                f"{n} complete rows{where} for {p} items; ML needs more rows than items",
                column=group,
                hint="collect more responses or analyse fewer items",
            )
        cov = np.cov(x, rowvar=False, bias=True)
        constant = [items[int(i)] for i in np.nonzero(np.diag(cov) <= 0.0)[0]]
        if constant:
            raise AnalysisError(
                f"item {constant[0]!r} is constant{where}",
                column=constant[0],
                hint="drop the item from the model (a constant item carries no information)",
            )
        if np.linalg.eigvalsh(cov)[0] <= 1e-10 * float(np.max(np.diag(cov))):
            raise AnalysisError(
                f"the sample covariance matrix of the items{where} is singular "
                "(an item is a linear combination of others)",
                column=group,
                hint="drop duplicated or sum-score items from the model",
            )
        moments.append(GroupMoments(n=n, cov=cov, mean=x.mean(axis=0)))
    return tuple(moments), tuple(label for label, _ in splits) if group is not None else ()


# --------------------------------------------------------------------------- assembling results
def _fit_row(
    spec: ModelSpec, data: tuple[GroupMoments, ...], ml: MlFit, imps: list[Implied]
) -> pd.DataFrame:
    n = sum(d.n for d in data)
    n_groups = len(data)
    df = spec.df
    chisq_b, df_b = measures.baseline(data)
    row: dict[str, float] = dict.fromkeys(FIT_COLUMNS, math.nan)
    row.update(
        n=n, n_groups=n_groups, npar=spec.n_free, df=df, baseline_chisq=chisq_b, baseline_df=df_b
    )
    if ml.converged:
        chisq = max(n * ml.fmin, 0.0)  # F >= 0; only rounding can push it below
        low, high = measures.rmsea_ci(chisq, df, n, n_groups)
        loglik = measures.loglik(data, imps, spec.meanstructure)
        row.update(
            chisq=chisq,
            p=float(stats.chi2.sf(chisq, df)) if df > 0 else math.nan,
            cfi=measures.cfi(chisq, df, chisq_b, df_b),
            tli=measures.tli(chisq, df, chisq_b, df_b),
            rmsea=measures.rmsea(chisq, df, n, n_groups),
            rmsea_ci_low=low,
            rmsea_ci_high=high,
            rmsea_p=measures.rmsea_pvalue(chisq, df, n, n_groups),
            srmr=measures.srmr(data, imps, spec.meanstructure),
            aic=-2.0 * loglik + 2.0 * spec.n_free,
            bic=-2.0 * loglik + spec.n_free * math.log(n),
            loglik=loglik,
        )
    frame = pd.DataFrame([row], columns=list(FIT_COLUMNS))
    return frame.astype(
        {"n": "int64", "n_groups": "int64", "npar": "int64", "df": "int64", "baseline_df": "int64"}
    )


def _estimates(
    spec: ModelSpec, ml: MlFit, imps: list[Implied], groups: tuple[str, ...]
) -> pd.DataFrame:
    se_all = (
        np.sqrt(np.clip(np.diag(ml.vcov), 0.0, None))
        if ml.vcov is not None
        else np.full(spec.n_free, np.nan)
    )
    rows: list[dict[str, Any]] = []

    def add(lhs: str, op: str, rhs: str, g: int, est: float, index: int, std: float) -> None:
        se = float(se_all[index]) if index >= 0 else math.nan
        z = est / se if index >= 0 and se > 0 else math.nan
        rows.append(
            {
                "lhs": lhs,
                "op": op,
                "rhs": rhs,
                "group": groups[g] if groups else None,
                "estimate": est,
                "se": se,
                "z": z,
                "p": float(2.0 * stats.norm.sf(abs(z))) if math.isfinite(z) else math.nan,
                "std_estimate": std,
                "free": index >= 0,
            }
        )

    items, factors = spec.items, spec.factors
    for g, (gs, imp) in enumerate(zip(spec.groups, imps, strict=True)):
        sd_ov = np.sqrt(np.diag(imp.sigma))
        sd_lv = np.sqrt(np.clip(np.diag(imp.psi), 0.0, None))
        for j, factor in enumerate(factors):
            for i, item in enumerate(items):
                if gs.lam[i, j] >= 0 or gs.lam_value[i, j] != 0.0:
                    est = float(imp.lam[i, j])
                    add(factor, "=~", item, g, est, int(gs.lam[i, j]), est * sd_lv[j] / sd_ov[i])
        for i, item in enumerate(items):
            est = float(imp.theta[i, i])
            add(item, "~~", item, g, est, int(gs.theta[i, i]), est / sd_ov[i] ** 2)
        for a, fa in enumerate(factors):
            for b in range(a, len(factors)):
                est = float(imp.psi[a, b])
                denom = sd_lv[a] * sd_lv[b]
                add(
                    fa,
                    "~~",
                    factors[b],
                    g,
                    est,
                    int(gs.psi[a, b]),
                    est / denom if denom > 0 else math.nan,
                )
        if spec.meanstructure:
            for i, item in enumerate(items):
                est = float(imp.nu[i])
                add(item, "~1", "", g, est, int(gs.nu[i]), est / sd_ov[i])
            for j, factor in enumerate(factors):
                est = float(imp.alpha[j])
                add(
                    factor,
                    "~1",
                    "",
                    g,
                    est,
                    int(gs.alpha[j]),
                    est / sd_lv[j] if sd_lv[j] > 0 else math.nan,
                )
    frame = pd.DataFrame(rows)
    if not groups:
        frame = frame.drop(columns="group")
    return frame


def _loadings(estimates: pd.DataFrame) -> pd.DataFrame:
    keep = ["lhs", "rhs"] + (["group"] if "group" in estimates.columns else [])
    keep += ["estimate", "std_estimate", "se", "z", "p"]
    out = estimates.loc[estimates["op"] == "=~", keep].rename(
        columns={"lhs": "factor", "rhs": "item"}
    )
    return out.reset_index(drop=True)


def _warn_inadmissible(spec: ModelSpec, imps: list[Implied], groups: tuple[str, ...]) -> None:
    for g, imp in enumerate(imps):
        where = f" in group {groups[g]!r}" if groups else ""
        negative = [spec.items[i] for i in np.nonzero(np.diag(imp.theta) < 0)[0]]
        if negative:
            warnings.warn(
                f"inadmissible solution{where}: negative residual variance of "
                f"{', '.join(map(repr, negative))} (Heywood case); lavaan warns the same",
                IpoWarning,
                stacklevel=3,
            )
        if np.linalg.eigvalsh(imp.psi)[0] < 0:
            warnings.warn(
                f"inadmissible solution{where}: the covariance matrix of the factors is not "
                "positive definite (a factor correlation beyond +/-1 or a negative variance); "
                "lavaan warns the same",
                IpoWarning,
                stacklevel=3,
            )


# --------------------------------------------------------------------------- public API
def cfa(
    data: pd.DataFrame,
    model: Mapping[str, Sequence[str]],
    *,
    group: str | None = None,
    equal: Sequence[str] = (),
    max_iter: int = 500,
) -> CfaResult:
    r"""Confirmatory factor analysis by maximum likelihood, as ``lavaan::cfa``.

    Parameters
    ----------
    data
        One row per respondent.  Rows missing any model item (or the group) are
        dropped (listwise deletion, lavaan's default).
    model
        Factor name -> item columns, e.g. ``{"TC": ["q1", "q2", "q3"], "RR": [...]}``.
        The first item of each factor is its marker (loading fixed to 1).  An item may
        load on more than one factor.
    group
        Optional grouping column for a multi-group model (adds a mean structure).
    equal
        Parameters held equal across groups: ``"loadings"`` and/or ``"intercepts"``
        (lavaan's ``group.equal``).  Needs ``group``.
    max_iter
        Maximum number of Fisher-scoring iterations.

    Returns
    -------
    CfaResult
        ``.fit`` (one row of fit measures), ``.loadings``, ``.estimates``, ``.converged``.

    Raises
    ------
    AnalysisError
        Unknown or non-numeric item, factor with fewer than 2 items, a model with
        negative degrees of freedom, a constant item, too few complete rows, a
        singular covariance matrix, or an unknown ``equal`` value.

    Warns
    -----
    ConvergenceWarning
        The optimiser did not converge; ``converged`` is False and the fit
        statistics are NaN (lavaan reports no fit measures either).
    IpoWarning
        Inadmissible solution (negative residual variance, non-positive-definite
        factor covariance matrix), as lavaan warns.

    Notes
    -----
    ML discrepancy with the biased sample moments ``S_g``, ``m_g`` of group ``g``:

    .. math::

        F_g = \log|\Sigma_g| + \mathrm{tr}(S_g\Sigma_g^{-1}) - \log|S_g| - p
              + (m_g - \mu_g)'\Sigma_g^{-1}(m_g - \mu_g),
        \qquad \chi^2 = \sum_g N_g F_g

    (the mean term only with a mean structure).  See the module docstring for the
    fit measures.  Checked against ``lavaan::cfa(model, data, estimator = "ML")``
    and ``fitMeasures()`` (lavaan 0.6-14) by ``tests/r/factor.R``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(1)
    >>> f = rng.normal(size=(300, 1))
    >>> x = f @ np.full((1, 4), 0.7) + rng.normal(scale=0.7, size=(300, 4))
    >>> data = pd.DataFrame(x, columns=["a", "b", "c", "d"])
    >>> result = cfa(data, {"F": ["a", "b", "c", "d"]})
    >>> result.converged, int(result.fit.loc[0, "df"])
    (True, 2)
    >>> result.loadings[["factor", "item"]].to_numpy().tolist()[:2]
    [['F', 'a'], ['F', 'b']]
    """
    checked = _check_model(data, model)
    equal = tuple(equal)
    bad = [e for e in equal if e not in EQUALITY_KINDS]
    if bad:
        raise AnalysisError(
            f"unknown equality constraint {bad[0]!r}",
            context={"parameter": "equal"},
            hint=f"use any of {', '.join(map(repr, EQUALITY_KINDS))}",
        )
    if equal and group is None:
        raise AnalysisError(
            "equality constraints need a group column",
            context={"parameter": "equal"},
            hint="pass group=... or drop equal=...",
        )
    if max_iter < 1:
        raise AnalysisError(
            f"max_iter must be at least 1, got {max_iter}",
            context={"parameter": "max_iter"},
            hint="use the default (500)",
        )
    data_moments, groups = _group_moments(data, model_items(checked), group)
    spec = build_spec(checked, n_groups=len(data_moments), equal=equal)
    if spec.df < 0:
        two = [f for f, items in checked.items() if len(items) == 2]
        extra = f" (two-item factors: {', '.join(map(repr, two))})" if two else ""
        raise AnalysisError(
            f"the model is not identified: {spec.n_free} free parameters for "
            f"{spec.n_moments} sample moments (df = {spec.df}){extra}",
            context={"parameter": "model"},
            hint="give each factor at least 3 items, or 2 items when it correlates with "
            "another factor",
        )
    ml = fit_ml(spec, data_moments, start_values(spec, data_moments), max_iter=max_iter)
    imps = [implied(g, ml.x) for g in spec.groups]
    if not ml.converged:
        warnings.warn(
            f"the factor model did not converge after {ml.iterations} iterations "
            f"(largest gradient {ml.max_gradient:.2g}); fit statistics are NaN",
            ConvergenceWarning,
            stacklevel=2,
        )
    else:
        _warn_inadmissible(spec, imps, groups)
    estimates = _estimates(spec, ml, imps, groups)
    return CfaResult(
        fit=_fit_row(spec, data_moments, ml, imps),
        loadings=_loadings(estimates),
        estimates=estimates,
        converged=ml.converged,
        groups=groups,
    )


def measurement_invariance(
    data: pd.DataFrame,
    model: Mapping[str, Sequence[str]],
    group: str,
    *,
    max_iter: int = 500,
) -> InvarianceResult:
    """Configural, metric and scalar invariance across groups, as lavaan.

    Fits ``cfa(model, data, group = group)`` three times with ``group.equal`` set to
    nothing (configural), ``"loadings"`` (metric) and ``c("loadings", "intercepts")``
    (scalar, latent means free in groups 2+), and compares each model with the
    previous one as ``lavTestLRT(configural, metric, scalar)``.

    Parameters
    ----------
    data
        One row per respondent; listwise deletion over the items and ``group``.
    model
        Factor name -> item columns (first item is the marker).
    group
        Grouping column (e.g. ``"niveau"`` with ``mbo`` / ``hbo``).
    max_iter
        Maximum number of iterations per model.

    Returns
    -------
    InvarianceResult
        ``.fit`` indexed by model with ``chisq, df, cfi, tli, rmsea, srmr, ...`` and
        ``delta_chisq, delta_df, delta_p, delta_rmsea``; ``.models`` with each fit.

    Raises
    ------
    AnalysisError
        As :func:`cfa`; also when ``group`` is unknown or has fewer than 2 groups.

    Notes
    -----
    ``delta_chisq`` and ``delta_df`` are differences with the previous (less
    constrained) model, ``delta_p = P(chi2(delta_df) > delta_chisq)`` and
    ``delta_rmsea = sqrt(max(0, (delta_chisq - delta_df) / (N delta_df))) * sqrt(G)``,
    as ``lavaan::lavTestLRT`` (0.6-14) reports them.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(2)
    >>> f = rng.normal(size=(400, 1))
    >>> x = f @ np.full((1, 4), 0.7) + rng.normal(scale=0.7, size=(400, 4))
    >>> data = pd.DataFrame(x, columns=["a", "b", "c", "d"])
    >>> data["niveau"] = np.where(rng.random(400) < 0.5, "mbo", "hbo")
    >>> result = measurement_invariance(data, {"F": ["a", "b", "c", "d"]}, "niveau")
    >>> result.fit.index.tolist(), result.fit["df"].tolist()
    (['configural', 'metric', 'scalar'], [4, 7, 10])
    """
    models: dict[str, CfaResult] = {}
    for name, equal in INVARIANCE_MODELS.items():
        models[name] = cfa(data, model, group=group, equal=equal, max_iter=max_iter)
    fit = pd.concat([m.fit for m in models.values()], ignore_index=True)
    fit.index = pd.Index(list(models), name="model")
    n = fit["n"].to_numpy(dtype=float)
    g = fit["n_groups"].to_numpy(dtype=float)
    d_chisq = fit["chisq"].diff()
    d_df = fit["df"].diff()
    fit["delta_chisq"] = d_chisq
    fit["delta_df"] = d_df
    fit["delta_p"] = [
        float(stats.chi2.sf(c, d)) if np.isfinite(c) and d > 0 else math.nan
        for c, d in zip(d_chisq, d_df, strict=True)
    ]
    fit["delta_rmsea"] = [
        math.sqrt(max(0.0, (c - d) / (nn * d))) * math.sqrt(gg)
        if np.isfinite(c) and d > 0
        else math.nan
        for c, d, nn, gg in zip(d_chisq, d_df, n, g, strict=True)
    ]
    first = next(iter(models.values()))
    return InvarianceResult(
        fit=fit,
        models=models,
        groups=first.groups,
        converged=all(m.converged for m in models.values()),
    )
