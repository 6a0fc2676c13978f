"""Helpers shared by the analysis modules: input checks and small formulas."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import special

from ipo_research.errors import AnalysisError

FloatArray = np.ndarray


def require_columns(data: pd.DataFrame, columns: Sequence[str], parameter: str) -> None:
    """Raise :class:`AnalysisError` naming every column of ``columns`` missing from ``data``."""
    if not isinstance(data, pd.DataFrame):
        raise AnalysisError(
            f"data must be a pandas DataFrame, got {type(data).__name__}",
            context={"parameter": "data"},
            hint="pass the survey table as a DataFrame",
        )
    missing = [c for c in columns if c not in data.columns]
    if missing:
        shown = ", ".join(repr(c) for c in missing)
        raise AnalysisError(
            f"unknown column(s) {shown} in {parameter}",
            column=str(missing[0]),
            context={"parameter": parameter},
            hint=f"choose from the data's columns: {', '.join(map(str, data.columns[:30]))}",
        )


def numeric_matrix(data: pd.DataFrame, columns: Sequence[str], parameter: str) -> FloatArray:
    """Return ``data[columns]`` as a float matrix with NaN for missing values."""
    out = np.empty((len(data), len(columns)), dtype=float)
    for j, col in enumerate(columns):
        series = data[col]
        if not (
            pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_bool_dtype(series.dtype)
        ):
            raise AnalysisError(
                f"column {col!r} is not numeric (dtype {series.dtype})",
                column=str(col),
                context={"parameter": parameter},
                hint="recode answers to numbers first (ipo_research.cleaning)",
            )
        out[:, j] = series.to_numpy(dtype=float, na_value=np.nan)
    return out


def hedges_j(df: float) -> float:
    """Exact small-sample correction used by ``effectsize::hedges_g``."""
    return float(
        np.exp(
            special.gammaln(df / 2.0)
            - np.log(np.sqrt(df / 2.0))
            - special.gammaln((df - 1.0) / 2.0)
        )
    )
