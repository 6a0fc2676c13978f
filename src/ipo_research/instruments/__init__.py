"""Instrument definitions: structure of questionnaires as data (no item texts).

Built-in definitions ship as YAML package data (``definitions/*.yaml``); users add or
adapt instruments in their own YAML file in the same format (``docs/instruments.md``).

>>> from ipo_research.instruments import load_instrument
>>> load_instrument("ICCAS").not_scored
('q21',)
"""

from __future__ import annotations

from ipo_research.instruments.model import Instrument
from ipo_research.instruments.registry import (
    KIRKPATRICK_LEVELS,
    available_instruments,
    instrument_from_mapping,
    instrument_to_mapping,
    instrument_to_yaml,
    load_instrument,
)

__all__ = [
    "KIRKPATRICK_LEVELS",
    "Instrument",
    "available_instruments",
    "instrument_from_mapping",
    "instrument_to_mapping",
    "instrument_to_yaml",
    "load_instrument",
]
