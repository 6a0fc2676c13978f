"""Cleaning: recode answers, apply quality rules, match waves, pseudonymise, audit.

The public face is :func:`clean` (one export in memory) and :func:`run_project` (every
export named in a project file, written to ``data/processed/``).  See ``docs/cleaning.md``.

>>> from ipo_research.cleaning import CleaningRules
>>> CleaningRules().duplicates
'latest_complete'
"""

from __future__ import annotations

from ipo_research.cleaning.core import CleaningResult, clean, item_columns
from ipo_research.cleaning.identifiers import find_identifiers
from ipo_research.cleaning.pseudonym import pseudonym, pseudonymise, resolve_key, write_key_file
from ipo_research.cleaning.rules import CleaningRules
from ipo_research.cleaning.schema import build_schema

__all__ = [
    "CleaningResult",
    "CleaningRules",
    "build_schema",
    "clean",
    "find_identifiers",
    "item_columns",
    "pseudonym",
    "pseudonymise",
    "resolve_key",
    "run_project",
    "write_key_file",
]


def __getattr__(name: str) -> object:
    # the project runner pulls in the readers and writers; load it only when asked for
    if name == "run_project":
        from ipo_research.cleaning.project import run_project

        return run_project
    raise AttributeError(f"module 'ipo_research.cleaning' has no attribute {name!r}")
