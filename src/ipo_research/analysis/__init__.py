"""Statistical analyses that agree with R (psych, effectsize, stats, lme4 + lmerTest, lavaan).

Every function here is pure: a DataFrame and column names in, DataFrames (or a small
frozen dataclass of DataFrames) out, at full precision.  Nothing reads files, prints,
plots or rounds; presentation lives in :mod:`ipo_research.present`.
"""

from __future__ import annotations

__all__: list[str] = []
# Each analysis module appends its public names below (one import line per module).
