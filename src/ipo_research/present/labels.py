"""Words of the presentation layer in Dutch (first) and English.

Every piece of text that a table, figure or suppression note shows comes from
:data:`TEXT` through :func:`text`, so a report switches language with one parameter
(``lang="nl"`` or ``lang="en"``) and a translation is checked in one place.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from ipo_research.errors import PresentationError

Lang = Literal["nl", "en"]
LANGS: tuple[Lang, ...] = ("nl", "en")

#: Default minimum number of respondents behind any published number (DOMAIN.md).
DEFAULT_MIN_N = 10

TEXT: Mapping[str, Mapping[Lang, str]] = {
    # table furniture
    "table": {"nl": "Tabel", "en": "Table"},
    "note": {"nl": "Noot.", "en": "Note."},
    "ci": {"nl": "95%-BI", "en": "95% CI"},
    "ci_long": {"nl": "BI = betrouwbaarheidsinterval", "en": "CI = confidence interval"},
    "scale": {"nl": "Schaal", "en": "Scale"},
    "group": {"nl": "Groep", "en": "Group"},
    "item": {"nl": "Item", "en": "Item"},
    # rows of analysis.response_shift (and its index header)
    "estimate": {"nl": "Schatting", "en": "Estimate"},
    "response_shift": {
        "nl": "Responsverschuiving (retrospectieve − echte voormeting)",
        "en": "Response shift (retrospective − true pretest)",
    },
    "true_change": {
        "nl": "Verandering t.o.v. echte voormeting",
        "en": "Change from true pretest",
    },
    "retrospective_change": {
        "nl": "Verandering t.o.v. retrospectieve voormeting",
        "en": "Change from retrospective pretest",
    },
    "effect": {"nl": "Effect", "en": "Effect"},
    "factor": {"nl": "Factor", "en": "Factor"},
    "term": {"nl": "Term", "en": "Term"},
    "variance": {"nl": "Variantie", "en": "Variance"},
    "model": {"nl": "Model", "en": "Model"},
    "intercept": {"nl": "Intercept", "en": "Intercept"},
    "residual": {"nl": "Residu", "en": "Residual"},
    "if_deleted": {"nl": "zonder item", "en": "if item deleted"},
    # titles
    "title_reliability": {"nl": "Betrouwbaarheid per schaal", "en": "Reliability by scale"},
    "title_reliability_items": {"nl": "Itemstatistieken", "en": "Item statistics"},
    "title_paired_change": {
        "nl": "Verandering tussen voor- en nameting",
        "en": "Change from pretest to posttest",
    },
    "title_compare_groups": {
        "nl": "Verschillen tussen groepen",
        "en": "Differences between groups",
    },
    "title_pairwise": {
        "nl": "Paarsgewijze vergelijkingen (Games-Howell)",
        "en": "Pairwise comparisons (Games-Howell)",
    },
    "title_mixed_fixed": {
        "nl": "Vaste effecten van het multilevelmodel",
        "en": "Fixed effects of the multilevel model",
    },
    "title_mixed_random": {
        "nl": "Random effecten van het multilevelmodel",
        "en": "Random effects of the multilevel model",
    },
    "title_cfa_fit": {
        "nl": "Modelfit van de confirmatieve factoranalyse",
        "en": "Fit of the confirmatory factor analysis",
    },
    "title_cfa_loadings": {
        "nl": "Factorladingen (confirmatieve factoranalyse)",
        "en": "Factor loadings (confirmatory factor analysis)",
    },
    "title_generic": {"nl": "Resultaten", "en": "Results"},
    # notes: explanations of symbols
    "note_reliability": {
        "nl": "α = Cronbachs alfa (paarsgewijs complete covariantiematrix) met Feldt-BI; "
        "α_std = gestandaardiseerde alfa; r_gem = gemiddelde inter-itemcorrelatie; "
        "ω_t = McDonalds omega totaal",
        "en": "α = Cronbach's alpha (pairwise-complete covariance matrix) with Feldt CI; "
        "α_std = standardised alpha; r_avg = average inter-item correlation; "
        "ω_t = McDonald's omega total",
    },
    "note_reliability_items": {
        "nl": "r_ir = item-restcorrelatie; α en ω_t zonder item = betrouwbaarheid van de "
        "schaal als het item wordt weggelaten",
        "en": "r_ir = item-rest correlation; α and ω_t if item deleted = reliability of the "
        "scale without the item",
    },
    "note_paired_change": {
        "nl": "M_verschil = na min voor; t-toets voor gepaarde metingen; d_z = gemiddeld "
        "verschil gedeeld door de SD van de verschillen; d_av = gemiddeld verschil gedeeld "
        "door de gemiddelde SD; g = Hedges' g; V = Wilcoxon-rangtekentoets (som van de "
        "positieve rangen) met p_V; r_rb = rang-biseriële correlatie",
        "en": "M_diff = post minus pre; paired-samples t test; d_z = mean difference divided "
        "by the SD of the differences; d_av = mean difference divided by the average SD; "
        "g = Hedges' g; V = Wilcoxon signed-rank test (sum of positive ranks) with p_V; "
        "r_rb = matched rank-biserial correlation",
    },
    "note_compare_groups": {
        "nl": "F_Welch = Welch-ANOVA; H = Kruskal-Wallistoets met p_H; ω² en ε² = "
        "effectgroottes (aandeel verklaarde variantie)",
        "en": "F_Welch = Welch's ANOVA; H = Kruskal-Wallis test with p_H; ω² and ε² = effect "
        "sizes (proportion of variance explained)",
    },
    "note_pairwise": {
        "nl": "Games-Howell-toets (geen gelijke varianties verondersteld); g = Hedges' g",
        "en": "Games-Howell test (equal variances not assumed); g = Hedges' g",
    },
    "note_mixed_fixed": {
        "nl": "b = ongestandaardiseerde schatting; vrijheidsgraden volgens Satterthwaite "
        "(zoals lmerTest)",
        "en": "b = unstandardised estimate; degrees of freedom by Satterthwaite's method "
        "(as lmerTest)",
    },
    "note_mixed_random": {
        "nl": "Variantiecomponenten; ICC = intraklassecorrelatie",
        "en": "Variance components; ICC = intraclass correlation",
    },
    "note_cfa_fit": {
        "nl": "χ² = chikwadraattoets van de modelfit; CFI = comparative fit index; TLI = "
        "Tucker-Lewis-index; RMSEA = root mean square error of approximation; SRMR = "
        "standardized root mean square residual (berekend zoals lavaan)",
        "en": "χ² = chi-square test of model fit; CFI = comparative fit index; TLI = "
        "Tucker-Lewis index; RMSEA = root mean square error of approximation; SRMR = "
        "standardized root mean square residual (computed as lavaan)",
    },
    "note_cfa_loadings": {
        "nl": "λ = ongestandaardiseerde lading; λ_std = gestandaardiseerde lading",
        "en": "λ = unstandardised loading; λ_std = standardised loading",
    },
    "groups": {"nl": "groepen", "en": "groups"},
    "not_converged": {
        "nl": "Let op: het model is niet geconvergeerd; de schattingen zijn onbetrouwbaar",
        "en": "Caution: the model did not converge; the estimates are unreliable",
    },
    "singular": {
        "nl": "Singuliere fit: een variantiecomponent is (vrijwel) nul",
        "en": "Singular fit: a variance component is (close to) zero",
    },
    "dash_missing": {"nl": "— = niet beschikbaar", "en": "— = not available"},
    # small cells
    "suppressed_primary": {
        "nl": "onderdrukt: minder dan {min_n} respondenten",
        "en": "suppressed: fewer than {min_n} respondents",
    },
    "suppressed_secondary": {
        "nl": "onderdrukt: anders herleidbaar uit een totaal",
        "en": "suppressed: would otherwise be revealed by a total",
    },
    "suppressed_note": {
        "nl": "{marker} Onderdrukt om herleidbaarheid te voorkomen: er worden geen cijfers "
        "getoond voor groepen met minder dan {min_n} respondenten, of waaruit zo'n groep "
        "via een totaal te herleiden is.",
        "en": "{marker} Suppressed to prevent disclosure: no figures are shown for groups of "
        "fewer than {min_n} respondents, or from which such a group could be derived through "
        "a total.",
    },
    "suppressed_figure": {
        "nl": "Niet getoond: minder dan {min_n} respondenten.",
        "en": "Not shown: fewer than {min_n} respondents.",
    },
    "suppressed_figure_short": {
        "nl": "niet getoond (n < {min_n})",
        "en": "not shown (n < {min_n})",
    },
    # figures
    "percent_responses": {"nl": "Percentage antwoorden", "en": "Percentage of responses"},
    "pre": {"nl": "Voormeting", "en": "Pretest"},
    "post": {"nl": "Nameting", "en": "Posttest"},
    "both": {"nl": "Beide metingen", "en": "Both waves"},
    "total": {"nl": "Totaal", "en": "Total"},
    "note_counts": {"nl": "Aantallen respondenten.", "en": "Numbers of respondents."},
    "score": {"nl": "Score", "en": "Score"},
    "mean": {"nl": "Gemiddelde", "en": "Mean"},
    "individual": {"nl": "Individuele student", "en": "Individual student"},
    "effect_size": {"nl": "Effectgrootte", "en": "Effect size"},
    "item_rest": {"nl": "Item-restcorrelatie ($r_{ir}$)", "en": "Item-rest correlation ($r_{ir}$)"},
    "threshold": {"nl": "Ondergrens", "en": "Threshold"},
}

#: Response labels of common agreement scales, from the lowest to the highest option.
LIKERT_LABELS: Mapping[int, Mapping[Lang, tuple[str, ...]]] = {
    5: {
        "nl": (
            "Helemaal mee oneens",
            "Mee oneens",
            "Neutraal",
            "Mee eens",
            "Helemaal mee eens",
        ),
        "en": ("Strongly disagree", "Disagree", "Neutral", "Agree", "Strongly agree"),
    },
    7: {
        "nl": (
            "Helemaal mee oneens",
            "Mee oneens",
            "Enigszins mee oneens",
            "Neutraal",
            "Enigszins mee eens",
            "Mee eens",
            "Helemaal mee eens",
        ),
        "en": (
            "Strongly disagree",
            "Disagree",
            "Somewhat disagree",
            "Neutral",
            "Somewhat agree",
            "Agree",
            "Strongly agree",
        ),
    },
}


def check_lang(lang: str, *, parameter: str = "lang") -> Lang:
    """Return ``lang`` if it is a supported language, else raise.

    Parameters
    ----------
    lang
        Language code, ``"nl"`` or ``"en"``.
    parameter
        Name of the caller's parameter, used in the error message.

    Raises
    ------
    PresentationError
        If ``lang`` is not one of :data:`LANGS`.
    """
    if lang not in LANGS:
        raise PresentationError(
            f"unknown language {lang!r}",
            context={"parameter": parameter},
            hint="use lang='nl' (Dutch, decimal comma) or lang='en' (English)",
        )
    return lang


def text(key: str, lang: str, **fields: object) -> str:
    """Return the text ``key`` in ``lang``, with ``{fields}`` filled in.

    Examples
    --------
    >>> text("suppressed_primary", "nl", min_n=10)
    'onderdrukt: minder dan 10 respondenten'
    """
    language = check_lang(lang)
    template = TEXT[key][language]
    return template.format(**fields) if fields else template
