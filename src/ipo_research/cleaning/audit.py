"""The audit trail: one row per reason, with rows and cells affected.

Columns of the audit table:

``step``           the cleaning step (``privacy``, ``recode``, ``respondent``, ``wave``,
                   ``duplicates``, ``speeders``, ``straight-lining``, ``too few answered``,
                   ``reverse keying``, ``scores``, ``waves``)
``reason``         what happened, in words
``rows_dropped``   raw rows removed by this reason (each row is counted once, by the first
                   rule that removed it, in the order above)
``rows_flagged``   rows kept but flagged (a ``flag_*`` column or ``matched`` is False)
``cells_changed``  cells set missing or transformed
``columns``        the raw or output columns concerned, comma-separated
``details``        thresholds, settings and counts per column

Invariant: ``audit.rows_dropped.sum() + len(result.data) == len(raw)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

AUDIT_COLUMNS = (
    "step", "reason", "rows_dropped", "rows_flagged", "cells_changed", "columns", "details",
)


@dataclass
class AuditTrail:
    """Collects audit rows while cleaning runs."""

    rows: list[dict[str, object]] = field(default_factory=list)

    def add(
        self,
        step: str,
        reason: str,
        *,
        rows_dropped: int = 0,
        rows_flagged: int = 0,
        cells_changed: int = 0,
        columns: list[str] | tuple[str, ...] = (),
        details: str = "",
    ) -> None:
        """Add one reason."""
        self.rows.append(
            {
                "step": step,
                "reason": reason,
                "rows_dropped": int(rows_dropped),
                "rows_flagged": int(rows_flagged),
                "cells_changed": int(cells_changed),
                "columns": ", ".join(columns),
                "details": details,
            }
        )

    def frame(self) -> pd.DataFrame:
        """Return the audit as a DataFrame with the columns in :data:`AUDIT_COLUMNS`."""
        out = pd.DataFrame(self.rows, columns=list(AUDIT_COLUMNS))
        for name in ("rows_dropped", "rows_flagged", "cells_changed"):
            out[name] = out[name].astype("int64")
        return out


def per_column(counts: dict[str, int]) -> str:
    """Format ``{column: count}`` as ``"a: 3; b: 1"``, leaving out zeros."""
    return "; ".join(f"{k}: {v}" for k, v in counts.items() if v)
