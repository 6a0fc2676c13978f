"""Plain-language sentences from analysis results, in Dutch (first) and English.

Reports tell their story in sentences a lector or teacher can read aloud, with the APA
numbers in brackets, for example::

    De gemiddelde totaalscore steeg van 3,41 naar 3,78 (n = 212; t(211) = 9,12, p < ,001;
    d_z = 0,52 [0,40; 0,64]): een middelgroot effect.

Every function takes the result of an :mod:`ipo_research.analysis` function (or one of its
rows), formats with :mod:`ipo_research.present.apa` and returns a string; nothing is
computed here except the choice of words.  A result for fewer respondents than ``min_n``
gives the suppression sentence (:func:`suppressed_sentence`) instead of numbers.

Words for sizes follow common conventions and are stated in the docstrings: Cohen (1988)
for *d* (0.2 small, 0.5 medium, 0.8 large) and the usual bands for alpha and omega
(< .60 insufficient, .60 poor, .70 acceptable, .80 good, .90 excellent).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from ipo_research.errors import PresentationError
from ipo_research.present.apa import fmt_ci, fmt_df, fmt_int, fmt_num, fmt_p
from ipo_research.present.labels import DEFAULT_MIN_N, Lang, check_lang
from ipo_research.present.suppress import check_min_n, is_publishable

__all__ = [
    "SCALE_LABELS",
    "change_sentence",
    "effect_size_label",
    "mixed_sentence",
    "reliability_label",
    "reliability_sentence",
    "response_sentence",
    "response_shift_sentence",
    "scale_label",
    "suppressed_sentence",
    "term_label",
]

#: Display names of the scale-score columns that cleaning writes (instrument subscales).
SCALE_LABELS: Mapping[str, Mapping[Lang, str]] = {
    "total": {"nl": "totaalscore", "en": "total score"},
    "teamwork_collaboration": {"nl": "teamwork en samenwerking",
                               "en": "teamwork and collaboration"},
    "negative_professional_identity": {"nl": "negatieve professionele identiteit",
                                       "en": "negative professional identity"},
    "positive_professional_identity": {"nl": "positieve professionele identiteit",
                                       "en": "positive professional identity"},
    "roles_responsibilities": {"nl": "rollen en verantwoordelijkheden",
                               "en": "roles and responsibilities"},
    "communication": {"nl": "communicatie", "en": "communication"},
    "collaboration": {"nl": "samenwerking", "en": "collaboration"},
    "person_centred": {"nl": "persoons- en gezinsgerichtheid",
                       "en": "person- and family-centred approach"},
    "conflict_management": {"nl": "conflicthantering", "en": "conflict management"},
    "team_functioning": {"nl": "teamfunctioneren", "en": "team functioning"},
}

_EFFECT_WORDS: Mapping[Lang, tuple[str, str, str, str]] = {
    "nl": ("verwaarloosbaar", "klein", "middelgroot", "groot"),
    "en": ("negligible", "small", "medium", "large"),
}
_RELIABILITY_WORDS: Mapping[Lang, tuple[str, str, str, str, str]] = {
    "nl": ("onvoldoende", "matig", "acceptabel", "goed", "uitstekend"),
    "en": ("insufficient", "poor", "acceptable", "good", "excellent"),
}
_WORDS: Mapping[str, Mapping[Lang, str]] = {
    "rose": {"nl": "steeg", "en": "rose"},
    "fell": {"nl": "daalde", "en": "fell"},
    "same": {"nl": "bleef gelijk", "en": "stayed the same"},
    "mean_of": {"nl": "De gemiddelde {what}", "en": "The mean {what}"},
    "effect": {"nl": "een {size} effect", "en": "a {size} effect"},
    "suppressed": {
        "nl": "Voor {what} worden geen cijfers getoond: er zijn minder dan {min_n} "
              "respondenten, en zulke kleine groepen kunnen herleidbaar zijn tot personen.",
        "en": "No figures are shown for {what}: there are fewer than {min_n} respondents, "
              "and groups that small could identify individuals.",
    },
    "reliability": {
        "nl": "De betrouwbaarheid van de {what} is {word}: α = {alpha} {ci}, ω_t = {omega} "
              "(n = {n}, {k} items).",
        "en": "The reliability of the {what} is {word}: α = {alpha} {ci}, ω_t = {omega} "
              "(n = {n}, {k} items).",
    },
    "response": {
        "nl": "{pre} studenten vulden de voormeting in en {post} de nameting; {pairs} "
              "studenten deden aan beide metingen mee.",
        "en": "{pre} students completed the pretest and {post} the posttest; {pairs} "
              "students took part in both.",
    },
    "response_one": {
        "nl": "{pre} studenten vulden de voormeting in en {post} de nameting.",
        "en": "{pre} students completed the pretest and {post} the posttest.",
    },
    "shift_lower": {
        "nl": "Achteraf schatten studenten hun beginniveau lager in dan zij bij de echte "
              "voormeting deden",
        "en": "Looking back, students rated their starting level lower than they did at the "
              "actual pretest",
    },
    "shift_higher": {
        "nl": "Achteraf schatten studenten hun beginniveau hoger in dan zij bij de echte "
              "voormeting deden",
        "en": "Looking back, students rated their starting level higher than they did at the "
              "actual pretest",
    },
    "shift_tail": {
        "nl": " (responsverschuiving: M_verschil = {diff} {ci}, d_z = {dz}; n = {n}). De groei "
              "gemeten met de retrospectieve voormeting (d_z = {dz_retro}) is daardoor {cmp} "
              "dan met de echte voormeting (d_z = {dz_true}).",
        "en": " (response shift: M_diff = {diff} {ci}, d_z = {dz}; n = {n}). Growth measured "
              "against the retrospective pretest (d_z = {dz_retro}) is therefore {cmp} than "
              "against the actual pretest (d_z = {dz_true}).",
    },
    "larger": {"nl": "groter", "en": "larger"},
    "smaller": {"nl": "kleiner", "en": "smaller"},
    "mixed": {
        "nl": "In het multilevelmodel ({model}) is het effect van {term} b = {b} "
              "(SE = {se}; t({df}) = {t}, {p}).",
        "en": "In the multilevel model ({model}) the effect of {term} is b = {b} "
              "(SE = {se}; t({df}) = {t}, {p}).",
    },
    "icc": {
        "nl": " Van de verschillen tussen studenten ligt {pct} op het niveau van {group} "
              "(ICC = {icc}).",
        "en": " Of the differences between students, {pct} lies at the level of {group} "
              "(ICC = {icc}).",
    },
    "not_converged": {
        "nl": " Let op: het model is niet geconvergeerd; lees de schattingen met voorzichtigheid.",
        "en": " Caution: the model did not converge; read the estimates with care.",
    },
}
_TERM_WORDS: Mapping[str, Mapping[Lang, str]] = {
    "wavepost": {"nl": "de meting (groei van voor- naar nameting)",
                 "en": "the wave (growth from pretest to posttest)"},
    "Niveauhbo": {"nl": "niveau (hbo ten opzichte van mbo)", "en": "level (hbo versus mbo)"},
    "wavepost:Niveauhbo": {"nl": "de extra groei van hbo-studenten ten opzichte van mbo",
                           "en": "the extra growth of hbo students compared with mbo"},
}


def _w(key: str, lang: Lang, **fields: object) -> str:
    return _WORDS[key][lang].format(**fields)


def _value(row: Mapping[str, Any] | pd.Series, name: str) -> float:
    try:
        value = row[name]
    except KeyError:
        raise PresentationError(
            f"the result has no column {name!r}", column=name,
            hint="pass a row of the matching ipo_research.analysis result",
        ) from None
    try:
        return float(value)
    except (TypeError, ValueError):
        raise PresentationError(f"column {name!r} is not a number: {value!r}",
                                column=name) from None


def _row(table: pd.DataFrame, name: str) -> pd.Series:
    if name not in table.index:
        raise PresentationError(f"the result has no row {name!r}", context={"parameter": "table"},
                                hint="pass ResponseShiftResult.table")
    row = table.loc[name]
    return row if isinstance(row, pd.Series) else row.iloc[0]


def scale_label(name: str, lang: str = "nl") -> str:
    """Display name of a scale-score column (``"total"`` -> ``"totaalscore"``).

    Unknown names are shown with spaces for underscores.

    Examples
    --------
    >>> scale_label("teamwork_collaboration"), scale_label("total", "en")
    ('teamwork en samenwerking', 'total score')
    >>> scale_label("my_scale")
    'my scale'
    """
    language = check_lang(lang)
    if name in SCALE_LABELS:
        return SCALE_LABELS[name][language]
    return name.replace("_", " ")


def term_label(term: str, lang: str = "nl") -> str:
    """Words for a fixed-effect term of the growth models (``"wavepost"`` -> the growth)."""
    language = check_lang(lang)
    return _TERM_WORDS[term][language] if term in _TERM_WORDS else term


def effect_size_label(d: float, lang: str = "nl") -> str:
    """Cohen's (1988) words for the size of a standardised mean difference.

    ``|d| < 0.2`` negligible, ``< 0.5`` small, ``< 0.8`` medium, else large.

    Examples
    --------
    >>> effect_size_label(0.52), effect_size_label(-0.1, "en")
    ('middelgroot', 'negligible')
    """
    language = check_lang(lang)
    size = abs(float(d))
    index = 0 if size < 0.2 else 1 if size < 0.5 else 2 if size < 0.8 else 3
    return _EFFECT_WORDS[language][index]


def reliability_label(alpha: float, lang: str = "nl") -> str:
    """Words for a reliability coefficient (alpha, omega).

    ``< .60`` insufficient, ``< .70`` poor, ``< .80`` acceptable, ``< .90`` good, else
    excellent.

    Examples
    --------
    >>> reliability_label(0.89), reliability_label(0.42, "en")
    ('goed', 'insufficient')
    """
    language = check_lang(lang)
    value = float(alpha)
    index = sum(value >= bound for bound in (0.6, 0.7, 0.8, 0.9))
    return _RELIABILITY_WORDS[language][index]


def suppressed_sentence(what: str, min_n: int = DEFAULT_MIN_N, lang: str = "nl") -> str:
    """The sentence shown instead of statistics for a group below ``min_n``.

    It never states the group's size (a count is a statistic too).

    Examples
    --------
    >>> suppressed_sentence("dit leerteam", 10).split(":")[0]
    'Voor dit leerteam worden geen cijfers getoond'
    """
    return _w("suppressed", check_lang(lang), what=what, min_n=check_min_n(min_n))


def change_sentence(
    row: Mapping[str, Any] | pd.Series,
    *,
    what: str = "score",
    lang: str = "nl",
    min_n: int = DEFAULT_MIN_N,
    group: str | None = None,
) -> str:
    """Describe a paired change (a row of :func:`~ipo_research.analysis.paired_change`).

    Parameters
    ----------
    row
        With ``n``, ``mean_pre``, ``mean_post``, ``df``, ``t``, ``p``, ``d_z``,
        ``d_z_ci_low``, ``d_z_ci_high``.
    what
        What was measured, as it follows "De gemiddelde" (``"totaalscore"``).
    lang
        ``"nl"`` or ``"en"``.
    min_n
        Below this ``n`` the suppression sentence is returned.
    group
        How to name the group in the suppression sentence (default: "deze groep").

    Examples
    --------
    >>> row = {"n": 212, "mean_pre": 3.41, "mean_post": 3.78, "df": 211.0, "t": 9.12,
    ...        "p": 1e-9, "d_z": 0.52, "d_z_ci_low": 0.40, "d_z_ci_high": 0.64}
    >>> change_sentence(row, what="totaalscore")
    'De gemiddelde totaalscore steeg van 3,41 naar 3,78 (n = 212; t(211) = 9,12, p < ,001; d_z = 0,52 [0,40; 0,64]): een middelgroot effect.'
    """
    language = check_lang(lang)
    threshold = check_min_n(min_n)
    n = row.get("n", None)
    if not is_publishable(n, threshold):
        name = group or {"nl": "deze groep", "en": "this group"}[language]
        return suppressed_sentence(name, threshold, language)
    pre, post = _value(row, "mean_pre"), _value(row, "mean_post")
    shown_pre, shown_post = fmt_num(pre, lang=language), fmt_num(post, lang=language)
    verb = (_w("same", language) if shown_pre == shown_post
            else _w("rose" if post > pre else "fell", language))
    d_z = _value(row, "d_z")
    stats = (
        f"n = {fmt_int(n, lang=language)}; t({fmt_df(row['df'], lang=language)}) = "
        f"{fmt_num(_value(row, 't'), lang=language)}, {fmt_p(_value(row, 'p'), lang=language, prefix=True)}; "
        f"d_z = {fmt_num(d_z, lang=language)} "
        f"{fmt_ci(row['d_z_ci_low'], row['d_z_ci_high'], lang=language)}"
    )
    subject = _w("mean_of", language, what=what)
    if shown_pre == shown_post:
        body = f"{subject} {verb} ({fmt_num(pre, lang=language)}; {stats})"
    else:
        to = {"nl": "van {a} naar {b}", "en": "from {a} to {b}"}[language]
        body = f"{subject} {verb} {to.format(a=shown_pre, b=shown_post)} ({stats})"
    size = _w("effect", language, size=effect_size_label(d_z, language))
    return f"{body}: {size}."


def reliability_sentence(
    summary: Mapping[str, Any] | pd.Series | pd.DataFrame,
    *,
    what: str = "totaalscore",
    lang: str = "nl",
    min_n: int = DEFAULT_MIN_N,
) -> str:
    """Describe reliability (``ReliabilityResult.summary`` or its single row).

    Examples
    --------
    >>> row = {"n": 812, "k": 19, "alpha": 0.886, "alpha_ci_low": 0.874,
    ...        "alpha_ci_high": 0.897, "omega_total": 0.894}
    >>> reliability_sentence(row)
    'De betrouwbaarheid van de totaalscore is goed: α = ,89 [,87; ,90], ω_t = ,89 (n = 812, 19 items).'
    """
    language = check_lang(lang)
    row: Mapping[str, Any] | pd.Series = (
        summary.iloc[0] if isinstance(summary, pd.DataFrame) else summary
    )
    threshold = check_min_n(min_n)
    if not is_publishable(row.get("n", None), threshold):
        return suppressed_sentence({"nl": "de betrouwbaarheid", "en": "the reliability"}[language],
                                   threshold, language)
    alpha = _value(row, "alpha")
    omega = row.get("omega_total", math.nan)
    return _w(
        "reliability", language, what=what, word=reliability_label(alpha, language),
        alpha=fmt_num(alpha, lang=language, stat="alpha"),
        ci=fmt_ci(row["alpha_ci_low"], row["alpha_ci_high"], lang=language, stat="alpha"),
        omega=fmt_num(omega, lang=language, stat="omega"),
        n=fmt_int(row["n"], lang=language), k=fmt_int(row["k"], lang=language),
    )


def response_sentence(
    n_pre: int, n_post: int, n_pairs: int | None = None, *, lang: str = "nl",
    min_n: int = DEFAULT_MIN_N,
) -> str:
    """Describe the response per wave; counts below ``min_n`` are not shown.

    Examples
    --------
    >>> response_sentence(240, 198, 180)
    '240 studenten vulden de voormeting in en 198 de nameting; 180 studenten deden aan beide metingen mee.'
    >>> response_sentence(240, 7, lang="en", min_n=10)
    '240 students completed the pretest and fewer than 10 the posttest.'
    """
    language = check_lang(lang)
    threshold = check_min_n(min_n)

    def count(n: int) -> str:
        if is_publishable(n, threshold):
            return fmt_int(n, lang=language)
        return {"nl": "minder dan {m}", "en": "fewer than {m}"}[language].format(m=threshold)

    fields = {"pre": count(n_pre), "post": count(n_post)}
    if n_pairs is None:
        text = _w("response_one", language, **fields)
    else:
        text = _w("response", language, pairs=count(n_pairs), **fields)
    return text[:1].upper() + text[1:]


def response_shift_sentence(
    table: pd.DataFrame, *, lang: str = "nl", min_n: int = DEFAULT_MIN_N
) -> str:
    """Describe a response shift (``ResponseShiftResult.table``).

    The table has the rows ``response_shift`` (retrospective minus true pretest),
    ``true_change`` and ``retrospective_change``.
    """
    language = check_lang(lang)
    threshold = check_min_n(min_n)
    shift = _row(table, "response_shift")
    true_change = _row(table, "true_change")
    retro_change = _row(table, "retrospective_change")
    if not is_publishable(shift["n"], threshold):
        return suppressed_sentence(
            {"nl": "de responsverschuiving", "en": "the response shift"}[language],
            threshold, language)
    diff = _value(shift, "mean_diff")
    dz_true = _value(true_change, "d_z")
    dz_retro = _value(retro_change, "d_z")
    head = _w("shift_lower" if diff < 0 else "shift_higher", language)
    tail = _w(
        "shift_tail", language, diff=fmt_num(diff, lang=language),
        ci=fmt_ci(shift["diff_ci_low"], shift["diff_ci_high"], lang=language),
        dz=fmt_num(_value(shift, "d_z"), lang=language), n=fmt_int(shift["n"], lang=language),
        dz_retro=fmt_num(dz_retro, lang=language), dz_true=fmt_num(dz_true, lang=language),
        cmp=_w("larger" if dz_retro > dz_true else "smaller", language),
    )
    return head + tail


def mixed_sentence(
    result: Any,
    term: str = "wavepost",
    *,
    model: str | None = None,
    lang: str = "nl",
    cluster: str | None = None,
    cluster_label: str | None = None,
) -> str:
    """Describe one fixed effect of a :class:`~ipo_research.analysis.MixedModelResult`.

    Parameters
    ----------
    result
        The fitted model.
    term
        Fixed-effect term as R names it (``"wavepost"``).
    model
        Short description of the model for the reader (default: the formula).
    lang
        ``"nl"`` or ``"en"``.
    cluster, cluster_label
        Grouping factor whose ICC is added to the sentence, and how to name it.

    Raises
    ------
    PresentationError
        When the model has no such term.
    """
    language = check_lang(lang)
    fixed: pd.DataFrame = result.fixed
    if term not in fixed.index:
        raise PresentationError(
            f"the model has no fixed effect {term!r}", context={"parameter": "term"},
            hint=f"terms are: {', '.join(map(str, fixed.index))}",
        )
    row = fixed.loc[term]
    text = _w(
        "mixed", language, model=model or result.formula, term=term_label(term, language),
        b=fmt_num(row["estimate"], lang=language), se=fmt_num(row["se"], lang=language),
        df=fmt_df(row["df"], 1, lang=language), t=fmt_num(row["t"], lang=language),
        p=fmt_p(row["p"], lang=language, prefix=True),
    )
    if cluster is not None:
        icc = result.icc
        value = float(icc[cluster]) if isinstance(icc, pd.Series) else float(icc)
        pct = fmt_num(100 * value, 0, lang=language) + "%"
        text += _w("icc", language, pct=pct, group=cluster_label or cluster,
                   icc=fmt_num(value, lang=language, stat="icc"))
    if not result.converged:
        text += _w("not_converged", language)
    return text
