"""The in-memory synthetic cohort: :func:`generate` and the :class:`SyntheticCohort` it returns."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ipo_research.errors import SynthError
from ipo_research.synth.messiness import EXPORTS, RATES, Export, build_exports
from ipo_research.synth.population import build_population
from ipo_research.synth.responses import (
    ICCAS_MODEL,
    MEDIAN_DURATION,
    RESPONSE_RATE,
    RIPLS_MODEL,
    draw_latent,
    iccas_responses,
    ripls_responses,
)

#: Version of the generator; bump it whenever the same seed would give other files.
GENERATOR_VERSION = "1"
GENERATOR = "ipo_research.synth"
MAX_SCALE = 20.0

_STREAMS = {"population": 1, "ripls": 2, "iccas": 3, "messiness": 4}


def _rng(seed: int, stream: str) -> np.random.Generator:
    """Independent generator per part, so a change in one part leaves the others alone."""
    return np.random.default_rng(np.random.SeedSequence([seed, _STREAMS[stream]]))


@dataclass(frozen=True)
class Truth:
    """What the generator knows and an analysis should recover.

    Attributes
    ----------
    parameters
        JSON-ready generating model (``truth/parameters.json``): seed, scale, per instrument
        the fixed effects (``intercept``, ``hbo``, ``growth``, ``growth_hbo``,
        ``growth_per_10h``, ``growth_leerteam``), SDs (``sd_team``, ``sd_student``,
        ``sd_residual``, ``sd_item``, ``sd_subscale``), ICCAS ``response_shift``, response
        rates and mess rates.
    students
        One row per student (``truth/students.csv``): context, ``ip_hours`` and per
        instrument ``<instr>_team_effect``, ``<instr>_student_effect``,
        ``<instr>_latent_pre``, ``<instr>_latent_post`` (ICCAS also
        ``iccas_latent_before``).
    messiness
        Export file name -> counts of every mess injected (``truth/messiness.json``).
    row_flags
        Flagged export rows (``truth/row_flags.csv``): ``file``, ``row`` (1-based data row
        as a spreadsheet user counts, header(s) excluded), ``Studentnummer``, ``Meting``,
        ``flag`` (``duplicate_earlier_complete``, ``duplicate_later_incomplete``,
        ``speeder``, ``straight_liner``, ``name_in_free_text``).
    """

    parameters: Mapping[str, Any]
    students: pd.DataFrame
    messiness: Mapping[str, Mapping[str, Any]]
    row_flags: pd.DataFrame


@dataclass(frozen=True)
class SyntheticCohort:
    """Everything one seeded run generates, in memory.

    Attributes
    ----------
    seed, scale
        Settings of the run.
    students
        One row per student with direct identifiers (``Studentnummer``, ``Naam``,
        ``Voornaam``, ``Achternaam``, ``E-mail``, ``Telefoon``) and context (``Regio``,
        ``Instelling``, ``Opleiding``, ``Niveau``, ``Cohort``, ``Leerteam`` (``""`` for
        curriculum-only students), ``Jaar``, ``ip_hours``).
    leerteams, curriculum, participation
        The registers as written to ``leerteams.csv``, ``curriculum.csv`` and
        ``participation.csv``.
    ripls
        Clean RIPLS answers, long: one row per responding student and wave with
        ``Studentnummer``, ``wave`` (``pre``/``post``), ``start``, ``duration``,
        ``q1``..``q19`` (raw answers 1-5; items 10-12 as answered, i.e. not yet reversed),
        ``file`` (the export holding the response), ``speeder`` and ``straight_liner``
        (True when the export replaced this response by a speeder's random answers or a
        straight line; the columns here keep what the model generated).
    iccas
        Clean ICCAS answers, long: ``Studentnummer``, ``wave``, ``rating`` (``now`` or the
        retrospective ``before``, post only), ``start``, ``duration``, ``q1``..``q20`` (1-7),
        ``q21`` (global change, 1 = much better now; post ``now`` rows), ``file``,
        ``speeder``, ``straight_liner``.
    exports
        File name -> :class:`~ipo_research.synth.messiness.Export` (the messy table exactly
        as written, with its counts).
    truth
        The ground truth.
    """

    seed: int
    scale: float
    students: pd.DataFrame
    leerteams: pd.DataFrame
    curriculum: pd.DataFrame
    participation: pd.DataFrame
    ripls: pd.DataFrame
    iccas: pd.DataFrame
    exports: Mapping[str, Export]
    truth: Truth

    def total_scores(self) -> pd.DataFrame:
        """Return clean total scores, long: one row per student, instrument, wave and rating.

        The total is the mean of the scored items after reverse keying (RIPLS items 10-12
        as ``6 - x``; ICCAS items 1-20, item 21 excluded), computed from the answers the model
        generated (speeders and straight-liners are flagged, not replaced).

        Returns
        -------
        pandas.DataFrame
            ``instrument`` (``RIPLS``/``ICCAS``), ``Studentnummer``, ``wave``
            (``pre``/``post``), ``rating`` (``now``; ICCAS post also ``before``), ``score``
            (rounded to 6 decimals), ``speeder``, ``straight_liner``, and the student's
            ``Regio``, ``Niveau``, ``Cohort``, ``Leerteam`` and ``ip_hours``.

        Examples
        --------
        >>> from ipo_research.synth import generate
        >>> s = generate(seed=7, scale=0.2).total_scores()
        >>> sorted(s.groupby(["instrument", "wave", "rating"]).groups)
        [('ICCAS', 'post', 'before'), ('ICCAS', 'post', 'now'), ('ICCAS', 'pre', 'now'), \
('RIPLS', 'post', 'now'), ('RIPLS', 'pre', 'now')]
        """
        frames = []
        for name, data, model in (("RIPLS", self.ripls, RIPLS_MODEL),
                                  ("ICCAS", self.iccas, ICCAS_MODEL)):
            x = data[[f"q{j}" for j in range(1, model.n_items + 1)]].to_numpy(dtype=float).copy()
            rev = [j - 1 for j in model.reverse]
            x[:, rev] = model.scale_min + model.scale_max - x[:, rev]
            rating = data["rating"] if "rating" in data else pd.Series("now", index=data.index)
            frames.append(pd.DataFrame({
                "instrument": name, "Studentnummer": data["Studentnummer"].to_numpy(),
                "wave": data["wave"].to_numpy(), "rating": rating.to_numpy(),
                "score": np.round(x.mean(axis=1), 6), "speeder": data["speeder"].to_numpy(),
                "straight_liner": data["straight_liner"].to_numpy()}))
        out = pd.concat(frames, ignore_index=True)
        context = self.students[["Studentnummer", "Regio", "Niveau", "Cohort", "Leerteam",
                                 "ip_hours"]]
        return out.merge(context, on="Studentnummer", how="left", validate="many_to_one")


def check_settings(seed: int, scale: float) -> None:
    """Raise :class:`~ipo_research.errors.SynthError` for an unusable seed or scale.

    Parameters
    ----------
    seed
        Whole number >= 0.
    scale
        Number in (0, :data:`MAX_SCALE`].
    """
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise SynthError(f"seed must be a whole number >= 0, got {seed!r}",
                         context={"parameter": "seed"}, hint="pass for example seed=2024")
    if (isinstance(scale, bool) or not isinstance(scale, int | float | np.floating)
            or not math.isfinite(scale) or not 0 < scale <= MAX_SCALE):
        raise SynthError(f"scale must be a number in (0, {MAX_SCALE:g}], got {scale!r}",
                         context={"parameter": "scale"},
                         hint="1.0 gives about 550 leerteam students; 0.2 is enough for tests")


def _flag_responses(clean: pd.DataFrame, exports: tuple[Export, ...], students: pd.DataFrame,
                    instrument: str) -> pd.DataFrame:
    merged = clean.merge(students[["Studentnummer", "Regio", "Instelling", "Cohort"]],
                         on="Studentnummer", how="left")
    file = pd.Series("", index=clean.index, dtype=object)
    for ex in exports:
        if ex.spec.instrument == instrument:
            file[ex.spec.select(merged).to_numpy()] = ex.spec.name
    out = clean.copy()
    out["file"] = file.to_numpy()
    wave_of = {"voormeting": "pre", "nameting": "post"}
    flags = pd.concat([ex.flags for ex in exports], ignore_index=True)
    keys = out["file"].astype(str) + "|" + out["Studentnummer"].astype(str) + "|" + out["wave"]
    for flag in ("speeder", "straight_liner"):
        f = flags[flags["flag"] == flag]
        hit = f["file"] + "|" + f["Studentnummer"] + "|" + f["Meting"].map(wave_of)
        out[flag] = keys.isin(set(hit)).to_numpy()
    return out


def _truth_students(students: pd.DataFrame, latents: Mapping[str, Any]) -> pd.DataFrame:
    cols = ["Studentnummer", "Regio", "Instelling", "Opleiding", "Niveau", "Cohort",
            "Leerteam", "Jaar", "ip_hours"]
    out = students[cols].copy()
    for name, lat in latents.items():
        out[f"{name}_team_effect"] = np.round(lat.team_effect, 6)
        out[f"{name}_student_effect"] = np.round(lat.student_effect, 6)
        out[f"{name}_latent_pre"] = np.round(lat.pre, 6)
        out[f"{name}_latent_post"] = np.round(lat.post, 6)
        if name == "iccas":
            out["iccas_latent_before"] = np.round(lat.before, 6)
    return out


def generate(seed: int = 2024, scale: float = 1.0) -> SyntheticCohort:
    """Generate a synthetic cohort in memory (no files).

    Parameters
    ----------
    seed
        Random seed (whole number >= 0).  The same seed and scale always give the same
        data, on every machine.
    scale
        Multiplies the number of students; 1.0 gives about 550 leerteam students and
        about 450 surveyed curriculum-only students in three cohorts.

    Returns
    -------
    SyntheticCohort

    Raises
    ------
    SynthError
        When ``seed`` or ``scale`` is unusable.

    Examples
    --------
    >>> from ipo_research.synth import generate
    >>> cohort = generate(seed=7, scale=0.2)
    >>> sorted(cohort.students["Regio"].unique())
    ['Deventer', 'Zwolle']
    >>> cohort.truth.parameters["RIPLS"]["growth_hbo"]
    0.08
    """
    check_settings(seed, scale)
    pop = build_population(_rng(seed, "population"), float(scale))
    students = pop.students
    rng_r = _rng(seed, "ripls")
    lat_r = draw_latent(rng_r, RIPLS_MODEL, students)
    ripls = ripls_responses(rng_r, students, lat_r)
    rng_i = _rng(seed, "iccas")
    lat_i = draw_latent(rng_i, ICCAS_MODEL, students)
    iccas = iccas_responses(rng_i, students, lat_i)
    exports = build_exports(_rng(seed, "messiness"), ripls, iccas, students)
    row_flags = pd.concat([e.flags for e in exports], ignore_index=True)
    messiness = {e.spec.name: {"instrument": e.spec.instrument, "format": e.spec.fmt,
                               "encoding": None if e.spec.fmt in ("sav", "xlsx")
                               else e.spec.encoding, **e.counts} for e in exports}
    parameters: dict[str, Any] = {
        "generator": GENERATOR, "version": GENERATOR_VERSION, "seed": int(seed),
        "scale": float(scale),
        "RIPLS": RIPLS_MODEL.to_dict(), "ICCAS": ICCAS_MODEL.to_dict(),
        "response_rates": dict(RESPONSE_RATE),
        "median_duration_sec": {f"{i}_{w}": v for (i, w), v in MEDIAN_DURATION.items()},
        "mess_rates": dict(RATES),
        "notes": {
            "latent_metric": "mean item score after reverse keying (RIPLS 1-5, ICCAS 1-7)",
            "growth": "post - pre = growth + growth_hbo*hbo + growth_per_10h*ip_hours/10"
                      " + growth_leerteam*leerteam (+ residuals)",
            "response_shift": "ICCAS retrospective 'before' = true pretest - response_shift",
            "item21": "ICCAS item 21 = 4 - item21_slope*(now - before) + noise; 1 = much better",
        },
    }
    truth = Truth(parameters, _truth_students(students, {"ripls": lat_r, "iccas": lat_i}),
                  messiness, row_flags)
    return SyntheticCohort(
        seed=int(seed), scale=float(scale), students=students, leerteams=pop.leerteams,
        curriculum=pop.curriculum, participation=pop.participation,
        ripls=_flag_responses(ripls, exports, students, "RIPLS"),
        iccas=_flag_responses(iccas, exports, students, "ICCAS"),
        exports={e.spec.name: e for e in exports}, truth=truth,
    )


__all__ = ["EXPORTS", "GENERATOR_VERSION", "SyntheticCohort", "Truth", "generate"]
