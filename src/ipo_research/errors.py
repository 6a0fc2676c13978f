"""One exception hierarchy for the whole toolkit.

Every error carries *where* (file, row, column, notebook, cell, parameter) and *why*,
and a hint on how to fix it.  The CLI prints ``str(error)`` as a single line, so the
message must be complete on its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(eq=False)
class IpoError(Exception):
    """Base class of every error raised on purpose by ``ipo_research``.

    Parameters
    ----------
    what
        What went wrong, in one sentence.
    file, row, column
        Where it went wrong, when known.  ``row`` is 1-based as a spreadsheet user
        counts data rows (header excluded).
    hint
        How to fix it.
    context
        Any further named locations (``notebook``, ``cell``, ``parameter``, ``key``...).
    """

    what: str
    file: str | None = None
    row: int | None = None
    column: str | None = None
    hint: str | None = None
    context: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(str(self))

    def where(self) -> str:
        """Return the location part of the message (may be empty)."""
        parts = []
        if self.file is not None:
            parts.append(f"file {self.file}")
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column is not None:
            parts.append(f"column {self.column!r}")
        parts.extend(f"{k} {v}" for k, v in self.context.items())
        return ", ".join(parts)

    def __str__(self) -> str:
        msg = self.what
        where = self.where()
        if where:
            msg = f"{msg} ({where})"
        if self.hint:
            msg = f"{msg}. Fix: {self.hint}"
        return msg


class ReadError(IpoError):
    """A file cannot be read or parsed (encoding, format, missing file)."""


class WriteError(IpoError):
    """Writing output failed or was refused (for example a write into ``data/raw``)."""


class SynthError(IpoError):
    """Synthetic data cannot be generated with the settings given (seed, scale)."""


class InstrumentError(IpoError):
    """An instrument definition is invalid or unknown."""


class CleaningError(IpoError):
    """Cleaning cannot proceed (bad mapping, missing item column, text in numeric data)."""


class PrivacyError(IpoError):
    """A privacy rule would be broken (no pseudonymisation key, identifier in output)."""


class SchemaError(IpoError):
    """Processed data does not satisfy its schema."""


class AnalysisError(IpoError):
    """Input to an analysis is unusable (constant item, too few pairs, unknown column)."""


class PresentationError(IpoError):
    """A table, figure or suppression request is invalid (unknown result kind, bad p, min_n)."""


class ReportError(IpoError):
    """A report plan, template or parameter set is invalid, or a report failed."""


class ParameterError(ReportError):
    """A report parameter is unknown, missing or of the wrong type."""


class IpoWarning(UserWarning):
    """Base class of warnings issued by ``ipo_research``."""


class ConvergenceWarning(IpoWarning):
    """A model did not converge; the result carries ``converged=False``."""
