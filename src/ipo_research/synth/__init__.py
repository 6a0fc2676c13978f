"""Seeded synthetic cohorts for demos and tests: no real personal data needed.

The generator builds the population (regions, institutions, practice locations, leerteams,
mbo and hbo students, curriculum and participation registers), draws latent RIPLS and ICCAS
scores from a model with known parameters, turns them into item answers, and writes them
as the messy exports lectors receive (Dutch Excel CSV, cp1252 CSV, ``.xlsx``, SPSS ``.sav``,
Qualtrics CSV), with the ground truth and an exact count of every mess beside them.

Public API
----------
generate
    Build a :class:`SyntheticCohort` in memory.
write_demo
    Write the demo folder described in ``docs/demo_data_contract.md`` (used by
    ``ipo-research synth``).
SyntheticCohort, Truth
    What :func:`generate` returns.
EXPORTS
    The survey exports and how each is made.
RIPLS_MODEL, ICCAS_MODEL
    The generating models (:class:`GrowthModel`).

Modules: :mod:`~ipo_research.synth.population` (who),
:mod:`~ipo_research.synth.responses` (the model and the answers),
:mod:`~ipo_research.synth.messiness` (the exports and their mess),
:mod:`~ipo_research.synth.writers` (reproducible bytes on disk),
:mod:`~ipo_research.synth.cohort` and :mod:`~ipo_research.synth.demo` (the two entry points).
"""

from __future__ import annotations

from ipo_research.synth.cohort import GENERATOR_VERSION, SyntheticCohort, Truth, generate
from ipo_research.synth.demo import FILE_NAMES, render_files, write_demo
from ipo_research.synth.messiness import EXPORTS, Export, ExportSpec
from ipo_research.synth.responses import ICCAS_MODEL, RIPLS_MODEL, GrowthModel

__all__ = [
    "EXPORTS",
    "FILE_NAMES",
    "GENERATOR_VERSION",
    "ICCAS_MODEL",
    "RIPLS_MODEL",
    "Export",
    "ExportSpec",
    "GrowthModel",
    "SyntheticCohort",
    "Truth",
    "generate",
    "render_files",
    "write_demo",
]
