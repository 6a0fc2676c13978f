"""ipo_research: evaluate interprofessional education (IPO) in Kind en Educatie.

The pipeline, in the order data travels::

    io (read exports) -> instruments -> cleaning (recode, rules, pseudonyms, audit)
      -> analysis (pure statistics) -> present (APA tables, figures, small cells)
      -> reports (papermill batch, site)

``synth`` generates synthetic cohorts for demos and tests; ``cli`` wires it together.
"""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

try:
    __version__ = version("ipo_research")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0+unknown"

__all__ = ["__version__", "clean", "load_instrument", "read_survey"]

# Lazy public API: importing the package stays fast (notebooks, CLI --help).
_LAZY = {
    "load_instrument": "ipo_research.instruments",
    "read_survey": "ipo_research.io",
    "clean": "ipo_research.cleaning",
}

if TYPE_CHECKING:  # pragma: no cover
    from ipo_research.cleaning import clean
    from ipo_research.instruments import load_instrument
    from ipo_research.io import read_survey


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'ipo_research' has no attribute {name!r}")
