"""Figures (ipo_research.present.figures): artists, labels, suppression, alt text."""

from __future__ import annotations

import html

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from ipo_research.errors import PresentationError
from ipo_research.present.figures import (
    alt_text,
    figure_html,
    forest_plot,
    item_total_plot,
    likert_bars,
    slope_plot,
)


@pytest.fixture
def answers(rng: np.random.Generator) -> pd.DataFrame:
    data = pd.DataFrame(
        {f"q{i}": rng.integers(1, 6, size=60).astype("float64") for i in range(1, 5)}
    )
    data.loc[:55, "q4"] = np.nan  # only 4 answers left: suppressed
    data.loc[3, "q1"] = np.nan
    return data


def _bars(fig: Figure) -> list[Rectangle]:
    ax = fig.axes[0]
    return [p for c in ax.containers for p in c.patches]


def test_likert_bars_diverge_around_zero(answers: pd.DataFrame) -> None:
    fig = likert_bars(answers, ["q1", "q2", "q3", "q4"], lang="nl")
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert len(ax.containers) == 5  # one BarContainer per answer category
    bars = _bars(fig)
    assert len(bars) == 5 * 4
    q1 = answers["q1"].dropna()
    pct = q1.value_counts(normalize=True).reindex([1.0, 2.0, 3.0, 4.0, 5.0], fill_value=0) * 100
    first_item = [c.patches[0] for c in ax.containers]
    widths = np.array([p.get_width() for p in first_item])
    np.testing.assert_allclose(widths, pct.to_numpy(), atol=1e-9)
    # neutral (3) is split around zero; the left end is -(share 1 + share 2 + neutral/2)
    neutral = first_item[2]
    np.testing.assert_allclose(neutral.get_x(), -pct[3.0] / 2, atol=1e-9)
    np.testing.assert_allclose(
        first_item[0].get_x(), -(pct[1.0] + pct[2.0] + pct[3.0] / 2), atol=1e-9
    )
    np.testing.assert_allclose(widths.sum(), 100.0)
    # suppressed item: no visible bar, label says why
    q4_widths = [c.patches[3].get_width() for c in ax.containers]
    assert q4_widths == [0.0] * 5
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[:3] == ["q1", "q2", "q3"]
    assert labels[3] == "q4 (niet getoond (n < 10))"
    legend = fig.legends[0]
    assert [t.get_text() for t in legend.get_texts()] == [
        "Helemaal mee oneens",
        "Mee oneens",
        "Neutraal",
        "Mee eens",
        "Helemaal mee eens",
    ]
    assert ax.get_xlabel() == "Percentage antwoorden"
    assert any(line.get_xdata()[0] == 0 for line in ax.lines)  # zero line
    text = alt_text(fig)
    assert text.startswith("Divergerend gestapeld staafdiagram van 4 items op een 5-puntsschaal")
    assert "q4" in text.split("Niet getoond")[-1]
    # colour-blind-safe palette: neutral grey, ends from ColorBrewer PuOr
    assert first_item[2].get_facecolor()[:3] == pytest.approx((0xBD / 255,) * 3)


def test_likert_bars_english_seven_point(rng: np.random.Generator) -> None:
    data = pd.DataFrame({"a": rng.integers(1, 8, size=40), "b": rng.integers(1, 8, size=40)})
    fig = likert_bars(
        data, ["a", "b"], scale_min=1, scale_max=7, lang="en", item_labels={"a": "Item A"}
    )
    ax = fig.axes[0]
    assert len(ax.containers) == 7
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Item A", "b"]
    assert fig.legends[0].get_texts()[0].get_text() == "Strongly disagree"
    assert ax.get_xlabel() == "Percentage of responses"
    ticks = [ax.xaxis.get_major_formatter()(v, 0) for v in (-50.0, 0.0, 50.0)]
    assert ticks == ["50%", "0%", "50%"]


def test_likert_bars_errors(answers: pd.DataFrame) -> None:
    with pytest.raises(PresentationError, match=r"column 'q9' not found"):
        likert_bars(answers, ["q9"])
    bad = answers.copy()
    bad.loc[10, "q2"] = 55.0
    with pytest.raises(
        PresentationError, match=r"item 'q2' has answer 55.0 outside the scale 1..5.*row 11"
    ):
        likert_bars(bad, ["q2"])
    with pytest.raises(PresentationError, match=r"labels has 2 entries for a 5-point scale"):
        likert_bars(answers, ["q1"], labels=["laag", "hoog"])
    text_data = pd.DataFrame({"q1": ["eens"] * 12})
    with pytest.raises(PresentationError, match=r"column 'q1' is not numeric"):
        likert_bars(text_data, ["q1"])
    with pytest.raises(PresentationError, match=r"unknown language 'de'"):
        likert_bars(answers, ["q1"], lang="de")


def test_likert_all_small_gives_message(answers: pd.DataFrame) -> None:
    fig = likert_bars(answers.head(6), ["q1", "q2"])
    assert not fig.axes[0].containers
    assert fig.axes[0].texts[0].get_text() == "Niet getoond: minder dan 10 respondenten."
    assert alt_text(fig) == "Niet getoond: minder dan 10 respondenten."


def test_slope_plot(rng: np.random.Generator) -> None:
    pre = rng.normal(3.2, 0.5, size=30)
    data = pd.DataFrame({"voor": pre, "na": pre + rng.normal(0.4, 0.3, size=30)})
    data.loc[0, "na"] = np.nan
    fig = slope_plot(data, "voor", "na", lang="nl")
    ax = fig.axes[0]
    lines = [c for c in ax.collections if isinstance(c, LineCollection)]
    assert len(lines) == 1
    assert len(lines[0].get_segments()) == 29  # incomplete pair left out
    mean_line = next(line for line in ax.lines if line.get_label() == "Gemiddelde")
    complete = data.dropna()
    np.testing.assert_allclose(
        mean_line.get_ydata(), [complete["voor"].mean(), complete["na"].mean()]
    )
    assert [t.get_text() for t in ax.get_xticklabels()] == ["Voormeting", "Nameting"]
    assert ax.get_ylabel() == "Score"
    assert "voor 29 respondenten" in alt_text(fig)
    assert "," in ax.yaxis.get_major_formatter()(3.5, 0)
    en = slope_plot(data, "voor", "na", lang="en", ylabel="RIPLS total")
    assert [t.get_text() for t in en.axes[0].get_xticklabels()] == ["Pretest", "Posttest"]
    assert en.axes[0].get_ylabel() == "RIPLS total"


def test_slope_plot_small_group_and_errors(rng: np.random.Generator) -> None:
    data = pd.DataFrame({"voor": rng.normal(size=8), "na": rng.normal(size=8)})
    fig = slope_plot(data, "voor", "na", lang="en")
    assert not fig.axes[0].collections
    assert alt_text(fig) == "Not shown: fewer than 10 respondents."
    assert slope_plot(data, "voor", "na", min_n=5).axes[0].collections
    with pytest.raises(PresentationError, match=r"column 'post' not found"):
        slope_plot(data, "voor", "post")


@pytest.fixture
def effects() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "n": [24, 31, 6, 61],
            "d_z": [0.42, 0.81, 1.5, 0.63],
            "d_z_ci_low": [0.01, 0.40, 0.2, 0.35],
            "d_z_ci_high": [0.83, 1.22, 2.8, 0.91],
        },
        index=pd.Index(["ZW-2223-01", "ZW-2223-02", "ZW-2223-03", "Totaal"], name="team"),
    )


def test_forest_plot(effects: pd.DataFrame) -> None:
    fig = forest_plot(effects, "d_z", lang="nl")
    ax = fig.axes[0]
    cis = [c for c in ax.collections if isinstance(c, LineCollection)]
    assert len(cis) == 1
    segments = cis[0].get_segments()
    assert len(segments) == 3  # the team of 6 is not drawn
    np.testing.assert_allclose([s[0][0] for s in segments], [0.01, 0.40, 0.35])
    np.testing.assert_allclose([s[1][0] for s in segments], [0.83, 1.22, 0.91])
    points = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert len(points) == 2  # squares for teams, a diamond for the total
    xs = np.concatenate([p.get_offsets()[:, 0] for p in points])
    np.testing.assert_allclose(sorted(xs), [0.42, 0.63, 0.81])
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["ZW-2223-01", "ZW-2223-02", "ZW-2223-03 (niet getoond (n < 10))", "Totaal"]
    assert any(line.get_xdata()[0] == 0.0 for line in ax.lines)  # reference line
    assert "95%-BI" in ax.get_xlabel()
    text = alt_text(fig)
    assert "voor 3 groepen; van 0,42 (ZW-2223-01) tot 0,81 (ZW-2223-02)" in text
    assert "1 groep(en) niet getoond (n < 10)" in text
    # nothing drawn outside the plotted CIs
    assert ax.get_xlim()[1] < 2.0


def test_forest_plot_label_column_and_errors(effects: pd.DataFrame) -> None:
    data = effects.reset_index()
    fig = forest_plot(data, label="team", lang="en", n_col=None, reference=None)
    ax = fig.axes[0]
    assert len(ax.collections[0].get_segments()) == 4
    assert not ax.lines
    with pytest.raises(PresentationError, match=r"column 'hedges_g' not found"):
        forest_plot(data, "hedges_g")
    small = forest_plot(effects.assign(n=5))
    assert alt_text(small).startswith("Niet getoond")


def test_item_total_plot() -> None:
    items = pd.DataFrame(
        {"n": [120, 120, 119, 7], "item_rest_r": [0.55, 0.12, 0.48, 0.6]},
        index=pd.Index(["q1", "q2", "q3", "q4"], name="item"),
    )
    fig = item_total_plot(items, lang="nl")
    ax = fig.axes[0]
    stems = [c for c in ax.collections if isinstance(c, LineCollection)]
    heads = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert len(stems[0].get_segments()) == 3
    assert len(heads) == 2
    low = heads[1]
    np.testing.assert_allclose(low.get_offsets()[:, 0], [0.12])
    np.testing.assert_allclose(sorted(heads[0].get_offsets()[:, 0]), [0.48, 0.55])
    assert [line.get_xdata()[0] for line in ax.lines] == [0.30, 0.0]
    assert ax.get_xlabel() == "Item-restcorrelatie ($r_{ir}$)"
    assert ax.xaxis.get_major_formatter()(0.5, 0) == ",5"
    assert ax.xaxis.get_major_formatter()(0.0, 0) == "0"
    assert (
        alt_text(fig)
        == "Item-restcorrelaties van 3 items, van ,12 (q2) tot ,55 (q1); 1 onder ,30: q2."
    )
    en = item_total_plot(items, lang="en", threshold=None, item_labels={"q1": "Teamwork 1"})
    assert en.axes[0].get_yticklabels()[0].get_text() == "Teamwork 1"
    assert len([c for c in en.axes[0].collections if isinstance(c, PathCollection)]) == 1
    with pytest.raises(PresentationError, match=r"column 'r_drop' not found"):
        item_total_plot(items, column="r_drop")


def test_figure_html_embeds_image_with_alt(effects: pd.DataFrame) -> None:
    fig = forest_plot(effects, lang="en")
    out = figure_html(fig, caption="Figure 1. Change by team", dpi=40)
    assert out.startswith('<figure class="ipo-figure"><img src="data:image/png;base64,')
    assert f'alt="{html.escape(alt_text(fig))}"' in out
    assert "n &lt; 10" in out
    assert "<figcaption>Figure 1. Change by team</figcaption>" in out


def test_alt_text_for_foreign_figure() -> None:
    fig = Figure()
    ax = fig.add_subplot()
    ax.set_title("Scores")
    ax.set_xlabel("Cohort")
    assert alt_text(fig) == "Scores, Cohort"
    assert alt_text(Figure()) == "Figure"
