"""Statistical analyses that agree with R (psych, effectsize, stats, lme4 + lmerTest, lavaan).

Every function here is pure: a DataFrame and column names in, DataFrames (or a small
frozen dataclass of DataFrames) out, at full precision.  Nothing reads files, prints,
plots or rounds; presentation lives in :mod:`ipo_research.present`.
"""

from __future__ import annotations

__all__: list[str] = []
# Each analysis module appends its public names below (one import line per module).
from .change import ResponseShiftResult, paired_change, response_shift
from .clustering import design_effect, icc
from .factor import CfaResult, InvarianceResult, cfa, measurement_invariance
from .groups import GroupComparison, compare_groups
from .mixed import MixedModelResult, mixed_model
from .reliability import ReliabilityResult, reliability

__all__ += ["CfaResult", "InvarianceResult", "cfa", "measurement_invariance"]
__all__ += ["ReliabilityResult", "reliability"]
__all__ += ["ResponseShiftResult", "paired_change", "response_shift"]
__all__ += ["GroupComparison", "compare_groups"]
__all__ += ["design_effect", "icc"]
__all__ += ["MixedModelResult", "mixed_model"]
