"""The generating model: latent RIPLS and ICCAS scores and the item answers they produce.

For student *i* in leerteam *t* at wave *w* (0 = pre, 1 = post) the latent score is::

    theta_iw = intercept + hbo * HBO_i + u_t + v_i
               + w * (growth + growth_hbo * HBO_i + growth_per_10h * hours_i / 10
                      + growth_leerteam * LT_i)
               + e_iw

with ``u_t ~ N(0, sd_team)`` (zero for curriculum-only students), ``v_i ~ N(0, sd_student)``
and ``e_iw ~ N(0, sd_residual)``.  ``theta`` lives on the response metric (mean item score
after reverse keying), so the fixed effects read as differences in scale points.

Item *j* of subscale *s* gets ``y* = theta + d_j + f_is + n_ij`` with item offset ``d_j``
(mean zero), a persistent student-by-subscale effect ``f_is ~ N(0, sd_subscale)`` and item
noise ``n_ij ~ N(0, sd_item * noise_j)``.  The answer is ``y*`` rounded to the nearest
category (thresholds halfway between categories) and clipped to the scale.  Reverse-keyed
items are written reversed (``min + max - y``), as a respondent answers a negatively worded
statement.  Clipping at the top of the scale makes observed change a little smaller than
latent change for students near the ceiling.

ICCAS adds a retrospective "before" rating at the post wave:
``theta_before = theta_pre - response_shift + N(0, sd_recall)``, and the global item 21
(1 = much better now .. 7) is ``4 - item21_slope * (theta_now - theta_before) + N(0, sd_item21)``,
rounded and clipped.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

WAVES: tuple[str, ...] = ("pre", "post")
WAVE_LABELS: dict[str, str] = {"pre": "voormeting", "post": "nameting"}


@dataclass(frozen=True)
class GrowthModel:
    """Parameters of the generating model of one instrument.

    Attributes
    ----------
    instrument
        ``"RIPLS"`` or ``"ICCAS"``.
    scale_min, scale_max
        Response range of the items.
    intercept
        Mean latent pretest score of an mbo student.
    hbo
        Pretest difference hbo - mbo.
    growth
        Pre -> post change of an mbo, curriculum-only student with 0 IP hours.
    growth_hbo
        Extra change of hbo students.
    growth_per_10h
        Extra change per 10 hours of IP curriculum.
    growth_leerteam
        Extra change of leerteam students.
    sd_team, sd_student, sd_residual
        SDs of the leerteam and student random effects and of the occasion residual.
    sd_item, sd_subscale
        SD of the item noise and of the student-by-subscale effect.
    subscales
        Subscale name -> 1-based item numbers.
    reverse
        Reverse-keyed item numbers (answers written reversed).
    item_offsets
        Offset ``d_j`` per item (mean zero).
    item_noise
        Multiplier of ``sd_item`` per item (weak items get more noise).
    response_shift
        ICCAS only: how much lower the retrospective "before" rating is than the true pretest.
    sd_recall
        ICCAS only: SD of the recall error of the "before" rating.
    item21_slope, sd_item21
        ICCAS only: global change item model.
    """

    instrument: str
    scale_min: int
    scale_max: int
    intercept: float
    hbo: float
    growth: float
    growth_hbo: float
    growth_per_10h: float
    growth_leerteam: float
    sd_team: float
    sd_student: float
    sd_residual: float
    sd_item: float
    sd_subscale: float
    subscales: dict[str, tuple[int, ...]]
    reverse: tuple[int, ...] = ()
    item_offsets: tuple[float, ...] = ()
    item_noise: tuple[float, ...] = ()
    response_shift: float = 0.0
    sd_recall: float = 0.0
    item21_slope: float = 0.0
    sd_item21: float = 0.0

    @property
    def n_items(self) -> int:
        """Number of scored items."""
        return sum(len(v) for v in self.subscales.values())

    def to_dict(self) -> dict[str, Any]:
        """Return the parameters as JSON-ready data."""
        out = asdict(self)
        out["subscales"] = {k: list(v) for k, v in self.subscales.items()}
        out["n_items"] = self.n_items
        return out


def _offsets(values: list[float]) -> tuple[float, ...]:
    arr = np.asarray(values, dtype=float)
    return tuple(round(float(x), 3) for x in arr - arr.mean())


RIPLS_MODEL = GrowthModel(
    instrument="RIPLS", scale_min=1, scale_max=5,
    intercept=3.80, hbo=0.10, growth=0.10, growth_hbo=0.08, growth_per_10h=0.03,
    growth_leerteam=0.12, sd_team=0.18, sd_student=0.40, sd_residual=0.16,
    sd_item=0.55, sd_subscale=0.20,
    subscales={
        "teamwork_collaboration": tuple(range(1, 10)),
        "negative_professional_identity": (10, 11, 12),
        "positive_professional_identity": (13, 14, 15, 16),
        "roles_responsibilities": (17, 18, 19),
    },
    reverse=(10, 11, 12),
    item_offsets=_offsets([0.25, 0.2, 0.1, 0.15, 0.05, 0.2, 0.1, 0.0, 0.15, 0.25, 0.15, 0.2,
                           0.0, -0.05, 0.05, -0.1, -0.45, -0.55, -0.35]),
    item_noise=tuple([1.0] * 16 + [1.7, 1.8, 1.6]),
)

ICCAS_MODEL = GrowthModel(
    instrument="ICCAS", scale_min=1, scale_max=7,
    intercept=4.50, hbo=0.15, growth=0.50, growth_hbo=0.10, growth_per_10h=0.08,
    growth_leerteam=0.30, sd_team=0.25, sd_student=0.60, sd_residual=0.25,
    sd_item=0.60, sd_subscale=0.20,
    subscales={
        "communication": (1, 2, 3, 4, 5),
        "collaboration": (6, 7, 8),
        "roles_responsibilities": (9, 10, 11, 12),
        "person_family_centred": (13, 14, 15),
        "conflict_management": (16, 17, 18),
        "team_functioning": (19, 20),
    },
    item_offsets=_offsets([0.2, 0.1, 0.0, 0.1, -0.1, 0.15, 0.05, 0.0, -0.2, -0.1, 0.0, 0.05,
                           0.2, 0.15, 0.1, -0.35, -0.3, -0.25, 0.1, 0.05]),
    item_noise=tuple([1.0] * 20),
    response_shift=0.45, sd_recall=0.20, item21_slope=1.2, sd_item21=0.6,
)


@dataclass(frozen=True)
class Latent:
    """Latent scores and random effects of every student for one instrument.

    Attributes
    ----------
    team_effect, student_effect
        ``u_t`` (0 without a leerteam) and ``v_i`` per student.
    pre, post
        Latent scores at the two waves.
    before
        ICCAS retrospective "before" latent score (NaN for RIPLS).
    subscale_effects
        ``f_is``: array (students x subscales).
    """

    team_effect: np.ndarray
    student_effect: np.ndarray
    pre: np.ndarray
    post: np.ndarray
    before: np.ndarray
    subscale_effects: np.ndarray


def draw_latent(rng: np.random.Generator, model: GrowthModel, students: pd.DataFrame) -> Latent:
    """Draw random effects and latent pre/post scores for every student.

    Parameters
    ----------
    rng
        Random generator.
    model
        Generating model of the instrument.
    students
        Needs ``Niveau``, ``Leerteam`` (``""`` = none) and ``ip_hours``.

    Returns
    -------
    Latent
    """
    n = len(students)
    hbo = (students["Niveau"] == "hbo").to_numpy(dtype=float)
    team = students["Leerteam"].to_numpy(dtype=object)
    in_team = (team != "").astype(float)
    hours = students["ip_hours"].to_numpy(dtype=float)
    team_ids = sorted({str(t) for t in team if t != ""})
    u_by_team = dict(zip(team_ids, rng.normal(0.0, model.sd_team, len(team_ids)), strict=True))
    u = np.array([u_by_team.get(str(t), 0.0) for t in team])
    v = rng.normal(0.0, model.sd_student, n)
    base = model.intercept + model.hbo * hbo + u + v
    growth = (model.growth + model.growth_hbo * hbo + model.growth_per_10h * hours / 10.0
              + model.growth_leerteam * in_team)
    pre = base + rng.normal(0.0, model.sd_residual, n)
    post = base + growth + rng.normal(0.0, model.sd_residual, n)
    if model.response_shift or model.sd_recall:
        before = pre - model.response_shift + rng.normal(0.0, model.sd_recall, n)
    else:
        before = np.full(n, np.nan)
    f = rng.normal(0.0, model.sd_subscale, (n, len(model.subscales)))
    return Latent(u, v, pre, post, before, f)


def _subscale_index(model: GrowthModel) -> np.ndarray:
    idx = np.empty(model.n_items, dtype=int)
    for s, items in enumerate(model.subscales.values()):
        for j in items:
            idx[j - 1] = s
    return idx


def draw_items(rng: np.random.Generator, model: GrowthModel, theta: np.ndarray,
               subscale_effects: np.ndarray) -> np.ndarray:
    """Turn latent scores into raw item answers.

    Parameters
    ----------
    rng
        Random generator.
    model
        Generating model.
    theta
        Latent score per respondent (length n).
    subscale_effects
        Student-by-subscale effects of the same respondents (n x subscales).

    Returns
    -------
    numpy.ndarray
        Integer answers (n x items) as written by the respondent: reverse-keyed items are
        reversed.  No row has all answers equal (such rows are the injected straight-liners
        only): rows that come out equal get one item moved one category.
    """
    k = model.n_items
    sub = _subscale_index(model)
    noise = rng.normal(0.0, 1.0, (len(theta), k)) * model.sd_item * np.asarray(model.item_noise)
    offsets = np.asarray(model.item_offsets)[None, :]
    ystar = theta[:, None] + offsets + subscale_effects[:, sub] + noise
    y = np.clip(np.rint(ystar), model.scale_min, model.scale_max).astype(np.int64)
    rev = np.array(model.reverse, dtype=int) - 1
    if len(rev):
        y[:, rev] = model.scale_min + model.scale_max - y[:, rev]
    return break_straight_lines(rng, y, model.scale_min, model.scale_max)


def break_straight_lines(rng: np.random.Generator, y: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """Move one answer by one category in every row whose answers are all equal.

    Parameters
    ----------
    rng
        Random generator.
    y
        Integer answers (rows x items); modified copy is returned.
    lo, hi
        Scale range.

    Returns
    -------
    numpy.ndarray
    """
    y = y.copy()
    for r in np.flatnonzero((y == y[:, :1]).all(axis=1)):
        j = int(rng.integers(y.shape[1]))
        y[r, j] = y[r, j] - 1 if y[r, j] > lo else y[r, j] + 1
    return y


def draw_item21(rng: np.random.Generator, model: GrowthModel, now: np.ndarray,
                before: np.ndarray) -> np.ndarray:
    """Draw the ICCAS global change item (1 = much better now .. 7 = much worse).

    Parameters
    ----------
    rng
        Random generator.
    model
        The ICCAS model.
    now, before
        Latent "now" and retrospective "before" scores.

    Returns
    -------
    numpy.ndarray
        Integer answers 1-7.
    """
    ystar = 4.0 - model.item21_slope * (now - before) + rng.normal(0.0, model.sd_item21, len(now))
    return np.clip(np.rint(ystar), 1, 7).astype(np.int64)


def _sessions(rng: np.random.Generator, cohorts: np.ndarray, wave: str,
              median: float) -> tuple[np.ndarray, np.ndarray]:
    """Start times and durations of survey sessions (fixed calendar windows per cohort)."""
    start_year = np.array([int(c[:4]) for c in cohorts])
    if wave == "pre":
        base = pd.to_datetime([f"{y}-09-15" for y in start_year])
        window = 46
    else:
        base = pd.to_datetime([f"{y + 1}-05-15" for y in start_year])
        window = 46
    days = rng.integers(0, window, len(cohorts))
    minutes = rng.integers(8 * 60, 22 * 60, len(cohorts))
    start = base.to_numpy() + (days * 1440 + minutes).astype("timedelta64[m]")
    raw = median * np.exp(rng.normal(0.0, 0.35, len(cohorts)))
    return start, np.round(np.maximum(raw, 0.5 * median), 1)


#: Median session duration (seconds) per instrument and wave.
MEDIAN_DURATION: dict[tuple[str, str], float] = {
    ("RIPLS", "pre"): 210.0, ("RIPLS", "post"): 200.0,
    ("ICCAS", "pre"): 260.0, ("ICCAS", "post"): 480.0,
}
#: Probability that a student answers a wave (leerteam students respond more at post).
RESPONSE_RATE: dict[str, float] = {"pre": 0.95, "post": 0.86, "post_leerteam": 0.93}


def _responders(rng: np.random.Generator, students: pd.DataFrame, wave: str) -> np.ndarray:
    in_team = (students["Leerteam"] != "").to_numpy()
    if wave == "pre":
        p = np.full(len(students), RESPONSE_RATE["pre"])
    else:
        p = np.where(in_team, RESPONSE_RATE["post_leerteam"], RESPONSE_RATE["post"])
    return np.flatnonzero(rng.random(len(students)) < p)


def ripls_responses(rng: np.random.Generator, students: pd.DataFrame,
                    latent: Latent) -> pd.DataFrame:
    """Clean RIPLS answers, one row per responding student and wave.

    Parameters
    ----------
    rng
        Random generator.
    students
        The student table.
    latent
        RIPLS latent scores of all students.

    Returns
    -------
    pandas.DataFrame
        ``Studentnummer``, ``wave`` (``pre``/``post``), ``start`` (datetime), ``duration``
        (seconds), ``q1``..``q19`` (raw answers 1-5, reverse-keyed items as answered).
    """
    frames = []
    for wave in WAVES:
        who = _responders(rng, students, wave)
        theta = (latent.pre if wave == "pre" else latent.post)[who]
        y = draw_items(rng, RIPLS_MODEL, theta, latent.subscale_effects[who])
        start, dur = _sessions(rng, students["Cohort"].to_numpy()[who], wave,
                               MEDIAN_DURATION[("RIPLS", wave)])
        frame = pd.DataFrame({"Studentnummer": students["Studentnummer"].to_numpy()[who],
                              "wave": wave, "start": start, "duration": dur})
        items = pd.DataFrame(y, columns=[f"q{j}" for j in range(1, y.shape[1] + 1)])
        frames.append(pd.concat([frame, items], axis=1))
    return pd.concat(frames, ignore_index=True)


def iccas_responses(rng: np.random.Generator, students: pd.DataFrame,
                    latent: Latent) -> pd.DataFrame:
    """Clean ICCAS answers, one row per responding student, wave and rating.

    The pre wave has one ``now`` rating (the true pretest); the post wave has a ``now``
    rating and a retrospective ``before`` rating, and ``q21`` (global change) on the
    ``now`` row.

    Parameters
    ----------
    rng
        Random generator.
    students
        The student table.
    latent
        ICCAS latent scores of all students.

    Returns
    -------
    pandas.DataFrame
        ``Studentnummer``, ``wave``, ``rating`` (``now``/``before``), ``start``,
        ``duration``, ``q1``..``q20`` (1-7) and ``q21`` (1-7, post ``now`` rows only).
    """
    m = ICCAS_MODEL
    cols = [f"q{j}" for j in range(1, m.n_items + 1)]
    frames = []
    for wave in WAVES:
        who = _responders(rng, students, wave)
        sub = latent.subscale_effects[who]
        start, dur = _sessions(rng, students["Cohort"].to_numpy()[who], wave,
                               MEDIAN_DURATION[("ICCAS", wave)])
        ids = students["Studentnummer"].to_numpy()[who]
        if wave == "pre":
            now = draw_items(rng, m, latent.pre[who], sub)
            frame = pd.DataFrame({"Studentnummer": ids, "wave": wave, "rating": "now",
                                  "start": start, "duration": dur})
            frame = pd.concat([frame, pd.DataFrame(now, columns=cols)], axis=1)
            frame["q21"] = pd.array([pd.NA] * len(frame), dtype="Int64")
            frames.append(frame)
            continue
        before = draw_items(rng, m, latent.before[who], sub)
        now = draw_items(rng, m, latent.post[who], sub)
        q21 = draw_item21(rng, m, latent.post[who], latent.before[who])
        for rating, y in (("before", before), ("now", now)):
            frame = pd.DataFrame({"Studentnummer": ids, "wave": wave, "rating": rating,
                                  "start": start, "duration": dur})
            frame = pd.concat([frame, pd.DataFrame(y, columns=cols)], axis=1)
            frame["q21"] = pd.array(q21 if rating == "now" else [pd.NA] * len(frame),
                                    dtype="Int64")
            frames.append(frame)
    return pd.concat(frames, ignore_index=True)
