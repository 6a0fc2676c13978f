"""Plain-language sentences (ipo_research.present.narrative) in Dutch and English."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ipo_research.analysis import mixed_model, paired_change, reliability, response_shift
from ipo_research.errors import PresentationError
from ipo_research.present import narrative as nar

CHANGE = {"n": 212, "mean_pre": 3.41, "mean_post": 3.78, "df": 211.0, "t": 9.12, "p": 1e-9,
          "d_z": 0.52, "d_z_ci_low": 0.40, "d_z_ci_high": 0.64}


def test_change_sentence_dutch_matches_the_house_style() -> None:
    assert nar.change_sentence(CHANGE, what="totaalscore") == (
        "De gemiddelde totaalscore steeg van 3,41 naar 3,78 (n = 212; t(211) = 9,12, "
        "p < ,001; d_z = 0,52 [0,40; 0,64]): een middelgroot effect."
    )


def test_change_sentence_english_and_decrease() -> None:
    row = {**CHANGE, "mean_post": 3.10, "t": -4.2, "d_z": -0.29, "d_z_ci_low": -0.43,
           "d_z_ci_high": -0.15, "p": 0.0123}
    text = nar.change_sentence(row, what="total score", lang="en")
    assert text == ("The mean total score fell from 3.41 to 3.10 (n = 212; t(211) = −4.20, "
                    "p = .012; d_z = −0.29 [−0.43, −0.15]): a small effect.")


def test_change_sentence_equal_means_says_so() -> None:
    row = {**CHANGE, "mean_post": 3.412, "d_z": 0.01}
    assert "bleef gelijk (3,41;" in nar.change_sentence(row)


def test_change_sentence_suppresses_small_groups_without_their_size() -> None:
    row = {**CHANGE, "n": 7}
    text = nar.change_sentence(row, group="dit leerteam")
    assert text.startswith("Voor dit leerteam worden geen cijfers getoond")
    assert "7" not in text and "3,41" not in text
    assert "10 respondenten" in text
    # the threshold is a parameter
    assert "3,41" in nar.change_sentence(row, min_n=5)
    # a suppressed (missing) n is never published either
    assert "geen cijfers" in nar.change_sentence({**CHANGE, "n": float("nan")})


def test_change_sentence_from_a_real_result() -> None:
    rng = np.random.default_rng(5)
    pre = rng.normal(3.5, 0.5, 60)
    df = pd.DataFrame({"pre": pre, "post": pre + 0.3 + rng.normal(0, 0.4, 60)})
    row = paired_change(df, "pre", "post").iloc[0]
    text = nar.change_sentence(row, lang="en", what="score")
    assert text.startswith("The mean score rose from")
    assert f"n = {int(row['n'])}" in text and "t(59)" in text


def test_change_sentence_rejects_a_row_without_means() -> None:
    with pytest.raises(PresentationError, match="has no column 'mean_pre'"):
        nar.change_sentence({"n": 40})


@pytest.mark.parametrize(("d", "nl", "en"), [(0.0, "verwaarloosbaar", "negligible"),
                                            (0.19, "verwaarloosbaar", "negligible"),
                                            (0.2, "klein", "small"), (-0.5, "middelgroot",
                                                                      "medium"),
                                            (0.8, "groot", "large")])
def test_effect_size_words_follow_cohen(d: float, nl: str, en: str) -> None:
    assert nar.effect_size_label(d) == nl
    assert nar.effect_size_label(d, "en") == en


@pytest.mark.parametrize(("alpha", "word"), [(0.42, "onvoldoende"), (0.6, "matig"),
                                             (0.75, "acceptabel"), (0.89, "goed"),
                                             (0.95, "uitstekend")])
def test_reliability_words(alpha: float, word: str) -> None:
    assert nar.reliability_label(alpha) == word


def test_reliability_sentence_from_a_real_result() -> None:
    rng = np.random.default_rng(11)
    latent = rng.normal(size=150)
    df = pd.DataFrame({f"q{i}": np.clip(np.round(3 + latent + rng.normal(size=150)), 1, 5)
                       for i in range(1, 7)})
    res = reliability(df, list(df.columns))
    text = nar.reliability_sentence(res.summary, lang="en", what="total score")
    assert text.startswith("The reliability of the total score is ")
    assert "(n = 150, 6 items)." in text
    assert "α = ." in text  # no leading zero (APA)
    small = nar.reliability_sentence(res.summary.assign(n=8))
    assert small.startswith("Voor de betrouwbaarheid worden geen cijfers getoond")


def test_response_sentence_hides_small_counts() -> None:
    assert nar.response_sentence(1843, 1612, 1490) == (
        "1.843 studenten vulden de voormeting in en 1.612 de nameting; 1.490 studenten "
        "deden aan beide metingen mee."
    )
    text = nar.response_sentence(8, 6, 5, lang="en")
    assert text == ("Fewer than 10 students completed the pretest and fewer than 10 the "
                    "posttest; fewer than 10 students took part in both.")


def test_response_shift_sentence() -> None:
    rng = np.random.default_rng(3)
    pre = rng.normal(4.5, 0.6, 80)
    df = pd.DataFrame({"pre": pre, "then": pre - 0.3 + rng.normal(0, 0.3, 80),
                       "post": pre + 0.6 + rng.normal(0, 0.4, 80)})
    res = response_shift(df, "then", "pre", "post")
    text = nar.response_shift_sentence(res.table)
    assert text.startswith("Achteraf schatten studenten hun beginniveau lager in")
    assert "daardoor groter" in text
    assert "n = 80" in text
    en = nar.response_shift_sentence(res.table, lang="en", min_n=100)
    assert en.startswith("No figures are shown for the response shift")


def test_mixed_sentence_with_icc_and_unknown_term() -> None:
    rng = np.random.default_rng(8)
    team = np.repeat(np.arange(12), 16)
    df = pd.DataFrame({"team": [f"t{t}" for t in team],
                       "wave": pd.Categorical(np.tile(["pre", "post"], 96), ["pre", "post"]),
                       "y": rng.normal(0, 0.5, 12)[team] + rng.normal(0, 1, 192)})
    df.loc[df["wave"] == "post", "y"] += 0.5
    fit = mixed_model(df, "y ~ wave + (1 | team)")
    text = nar.mixed_sentence(fit, "wavepost", model="groei", cluster="team",
                              cluster_label="het leerteam")
    b = fit.fixed.loc["wavepost", "estimate"]
    assert text.startswith("In het multilevelmodel (groei) is het effect van de meting")
    assert f"b = {b:.2f}".replace(".", ",").replace("-", "−") in text
    assert "op het niveau van het leerteam (ICC = ," in text
    with pytest.raises(PresentationError, match="no fixed effect 'wavepre'"):
        nar.mixed_sentence(fit, "wavepre")


def test_labels_and_language_check() -> None:
    assert nar.scale_label("roles_responsibilities") == "rollen en verantwoordelijkheden"
    assert nar.scale_label("communication", "en") == "communication"
    assert nar.term_label("wavepost:Niveauhbo", "en").startswith("the extra growth")
    assert nar.term_label("x") == "x"
    with pytest.raises(PresentationError, match="unknown language 'de'"):
        nar.scale_label("total", "de")
    with pytest.raises(PresentationError, match="min_n must be a whole number"):
        nar.suppressed_sentence("x", 0)
