"""Figures lectors ask for, in Dutch or English, safe for small groups.

Every function returns a :class:`matplotlib.figure.Figure` built without ``pyplot``
(no global state, nothing shown or saved, safe in batch reports) and stores a short
description for screen readers, which :func:`alt_text` returns and :func:`figure_html`
puts in the ``alt`` attribute.

* :func:`likert_bars`: diverging stacked bars per Likert item; disagreement to the left
  of zero, agreement to the right, the neutral category split around zero;
* :func:`slope_plot`: pre/post lines per respondent with the mean on top;
* :func:`forest_plot`: effect sizes with confidence intervals by team or programme;
* :func:`item_total_plot`: item-rest correlations per item with a lower bound.

Colours come from colour-blind-safe palettes (ColorBrewer PuOr for the Likert scale,
seaborn's ``colorblind`` elsewhere) and meaning never depends on colour alone (markers
and labels carry it too).  Groups with fewer respondents than ``min_n`` (default 10)
are not drawn; the figure says so.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from ipo_research.errors import PresentationError
from ipo_research.present.apa import MINUS, fmt_num
from ipo_research.present.labels import DEFAULT_MIN_N, LIKERT_LABELS, Lang, check_lang, text
from ipo_research.present.suppress import TOTAL_LABELS, check_min_n, is_publishable

__all__ = [
    "alt_text",
    "figure_html",
    "forest_plot",
    "item_total_plot",
    "likert_bars",
    "slope_plot",
]

NEUTRAL_GREY = "#bdbdbd"
_STAT_LABELS: Mapping[str, str] = {
    "d_z": "$d_z$",
    "d_av": "$d_{av}$",
    "hedges_g": "$g$",
    "r_rb": "$r_{rb}$",
    "mean_diff": "$M_{diff}$",
    "estimate": "$b$",
    "omega_sq": "$\\omega^2$",
    "epsilon_sq": "$\\varepsilon^2$",
}


# --------------------------------------------------------------------------- helpers
def _set_alt(fig: Figure, description: str) -> Figure:
    fig.set_label(description)
    return fig


def alt_text(fig: Figure) -> str:
    """Return the short description of a figure made here, for an HTML ``alt`` attribute.

    For other figures, a description is assembled from axis titles and labels.
    """
    label = fig.get_label()
    if label:
        return str(label)
    parts = []
    for ax in fig.axes:
        bits = [s for s in (ax.get_title(), ax.get_xlabel(), ax.get_ylabel()) if s]
        if bits:
            parts.append(", ".join(bits))
    return "; ".join(parts) or "Figure"


def figure_html(fig: Figure, *, caption: str | None = None, dpi: int = 150) -> str:
    """Embed a figure as a self-contained ``<figure>`` (PNG as data URI, with alt text).

    Nothing is written to disk; the image is rendered in memory.
    """
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    alt = html.escape(alt_text(fig), quote=True)
    out = f'<figure class="ipo-figure"><img src="data:image/png;base64,{data}" alt="{alt}">'
    if caption:
        out += f"<figcaption>{html.escape(caption)}</figcaption>"
    return out + "</figure>"


def _tick_formatter(lang: Lang, *, percent: bool = False, absolute: bool = False) -> FuncFormatter:
    def fmt(value: float, _pos: object = None) -> str:
        v = abs(value) if absolute else value
        s = f"{v:.2f}".rstrip("0").rstrip(".")
        if s in ("-0", ""):
            s = "0"
        s = s.replace("-", MINUS)
        if lang == "nl":
            s = s.replace(".", ",")
        return s + ("%" if percent else "")

    return FuncFormatter(fmt)


def _new_figure(width: float, height: float) -> tuple[Figure, Axes]:
    fig = Figure(figsize=(width, height), layout="constrained")
    ax = fig.add_subplot()
    return fig, ax


def _suppressed_figure(min_n: int, lang: Lang) -> Figure:
    """A placeholder saying a figure is not shown; it never states the group's size."""
    fig, ax = _new_figure(6.0, 1.2)
    message = text("suppressed_figure", lang, min_n=min_n)
    ax.set_axis_off()
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes)
    return _set_alt(fig, message)


def _require_columns(data: pd.DataFrame, columns: Sequence[str], parameter: str) -> None:
    if not isinstance(data, pd.DataFrame):
        raise PresentationError(
            f"data must be a DataFrame, got {type(data).__name__}", context={"parameter": "data"}
        )
    missing = [c for c in columns if c not in data.columns]
    if missing:
        raise PresentationError(
            f"column {missing[0]!r} not found",
            column=missing[0],
            context={"parameter": parameter},
            hint=f"columns are: {', '.join(map(str, data.columns))}",
        )


def _numeric(data: pd.DataFrame, column: str) -> pd.Series:
    values = data[column]
    if not pd.api.types.is_numeric_dtype(values.dtype):
        raise PresentationError(
            f"column {column!r} is not numeric (dtype {values.dtype})",
            column=column,
            hint="plot cleaned, numeric data (see ipo_research.cleaning)",
        )
    return values.astype("float64")


# --------------------------------------------------------------------------- Likert
def likert_bars(
    data: pd.DataFrame,
    items: Sequence[str],
    *,
    scale_min: int = 1,
    scale_max: int = 5,
    labels: Sequence[str] | None = None,
    item_labels: Mapping[str, str] | None = None,
    lang: str = "nl",
    min_n: int = DEFAULT_MIN_N,
    title: str | None = None,
) -> Figure:
    """Diverging stacked bars of the answers to Likert items.

    Each bar is one item: the share of each answer category, disagreement to the left of
    zero and agreement to the right; with an odd number of categories the middle
    (neutral) one is split half left, half right of zero.

    Parameters
    ----------
    data
        One row per respondent, one numeric column per item (answers ``scale_min`` ..
        ``scale_max``; missing answers are left out of that item's percentages).
    items
        Item columns, drawn top to bottom in this order.
    scale_min, scale_max
        Theoretical range of the answers.
    labels
        Category labels from low to high.  Default: Dutch/English agreement labels for
        5- and 7-point scales, else the numbers.
    item_labels
        Display names for items.
    lang
        ``"nl"`` or ``"en"``.
    min_n
        Items answered by fewer respondents are not drawn (labelled as such).
    title
        Optional axes title.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    PresentationError
        Unknown item column, non-numeric data, answers outside the scale or not whole
        numbers, or a wrong number of labels.
    """
    language = check_lang(lang)
    threshold = check_min_n(min_n)
    _require_columns(data, items, "items")
    if not items:
        raise PresentationError(
            "items is empty", context={"parameter": "items"}, hint="name at least one item column"
        )
    if scale_max <= scale_min:
        raise PresentationError(
            f"scale_max ({scale_max}) must exceed scale_min ({scale_min})",
            context={"parameter": "scale_max"},
        )
    categories = list(range(scale_min, scale_max + 1))
    k = len(categories)
    if labels is None:
        labels = LIKERT_LABELS[k][language] if k in LIKERT_LABELS else [str(c) for c in categories]
    if len(labels) != k:
        raise PresentationError(
            f"labels has {len(labels)} entries for a {k}-point scale",
            context={"parameter": "labels"},
            hint=f"give one label per answer {scale_min}..{scale_max}",
        )
    shares = []
    counts_n = []
    for item in items:
        values = _numeric(data, item).dropna()
        bad = values[(values < scale_min) | (values > scale_max) | (values != values.round())]
        if len(bad):
            raise PresentationError(
                f"item {item!r} has answer {float(bad.iloc[0])!r} outside the scale {scale_min}..{scale_max}",
                column=item,
                row=int(np.flatnonzero(data[item].astype("float64").eq(bad.iloc[0]))[0]) + 1,
                hint="clean the data first (out-of-range answers become missing)",
            )
        counts = values.value_counts().reindex([float(c) for c in categories], fill_value=0)
        n = int(values.size)
        counts_n.append(n)
        shares.append((counts.to_numpy(dtype="float64") / n * 100.0) if n else np.zeros(k))
    shown = [is_publishable(n, threshold) for n in counts_n]
    if not any(shown):
        return _suppressed_figure(threshold, language)

    pct = np.vstack(shares)
    n_low = k // 2
    neutral = k % 2 == 1
    left_start = -(pct[:, :n_low].sum(axis=1) + (pct[:, n_low] / 2 if neutral else 0.0))
    palette = sns.color_palette("PuOr", k)
    colors = list(palette)
    if neutral:
        colors[n_low] = NEUTRAL_GREY

    fig, ax = _new_figure(8.0, 1.0 + 0.45 * len(items))
    y = np.arange(len(items))
    mask = np.array(shown)
    start = np.where(mask, left_start, 0.0)
    for j in range(k):
        width = np.where(mask, pct[:, j], 0.0)
        ax.barh(
            y,
            width,
            left=start,
            color=colors[j],
            edgecolor="white",
            linewidth=0.5,
            label=labels[j],
            height=0.7,
        )
        start = start + width
    ax.axvline(0, color="#333333", linewidth=0.8)
    names = []
    for item, ok in zip(items, shown, strict=True):
        name = (item_labels or {}).get(item, item)
        if not ok:
            name = f"{name} ({text('suppressed_figure_short', language, min_n=threshold)})"
        names.append(name)
    ax.set_yticks(y, names)
    ax.invert_yaxis()
    ax.xaxis.set_major_formatter(_tick_formatter(language, percent=True, absolute=True))
    reach = max(
        100.0 - float(np.min(np.where(mask, -left_start, 100.0))),
        float(np.max(np.where(mask, -left_start, 0.0))),
    )
    ax.set_xlim(-reach - 5, reach + 5)
    ax.set_xlabel(text("percent_responses", language))
    if title:
        ax.set_title(title)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    one_row = sum(len(label) for label in labels) <= 45 and k <= 5
    fig.legend(
        *ax.get_legend_handles_labels(),
        loc="outside lower center",
        ncol=k if one_row else (k + 1) // 2,
        frameon=False,
        fontsize="small",
    )
    agree = pct[:, k - n_low :].sum(axis=1)
    listed = [
        f"{(item_labels or {}).get(i, i)} {fmt_num(a, 0, lang=language)}%"
        for i, a, ok in zip(items, agree, shown, strict=True)
        if ok
    ]
    head = {
        "nl": f"Divergerend gestapeld staafdiagram van {len(items)} items op een {k}-puntsschaal "
        f"({labels[0]} tot {labels[-1]}); oneens links van nul, eens rechts",
        "en": f"Diverging stacked bar chart of {len(items)} items on a {k}-point scale "
        f"({labels[0]} to {labels[-1]}); disagreement left of zero, agreement right",
    }[language]
    agree_word = {"nl": "Aandeel (helemaal) eens", "en": "Share agreeing"}[language]
    description = (
        f"{head}. {agree_word}: {', '.join(listed[:12])}{' ...' if len(listed) > 12 else ''}."
    )
    if not all(shown):
        description += (
            " "
            + text("suppressed_figure_short", language, min_n=threshold).capitalize()
            + ": "
            + ", ".join(i for i, ok in zip(items, shown, strict=True) if not ok)
            + "."
        )
    return _set_alt(fig, description)


# --------------------------------------------------------------------------- slopes
def slope_plot(
    data: pd.DataFrame,
    pre: str,
    post: str,
    *,
    lang: str = "nl",
    min_n: int = DEFAULT_MIN_N,
    ylabel: str | None = None,
    title: str | None = None,
) -> Figure:
    """Pre/post slope plot: one thin line per respondent, the mean as a thick line.

    Parameters
    ----------
    data
        One row per respondent (wide), with a pre and a post column; rows missing either
        are left out.
    pre, post
        Column names.
    lang
        ``"nl"`` or ``"en"``.
    min_n
        With fewer complete pairs the figure only says it is not shown.
    ylabel, title
        Axis label (default "Score") and optional title.

    Returns
    -------
    matplotlib.figure.Figure
        Individual lines are one :class:`~matplotlib.collections.LineCollection`; the mean
        is a :class:`~matplotlib.lines.Line2D` with label "Gemiddelde"/"Mean".
    """
    language = check_lang(lang)
    threshold = check_min_n(min_n)
    _require_columns(data, [pre, post], "pre/post")
    both = pd.DataFrame({"pre": _numeric(data, pre), "post": _numeric(data, post)}).dropna()
    n = len(both)
    if not is_publishable(n, threshold):
        return _suppressed_figure(threshold, language)
    fig, ax = _new_figure(4.5, 4.5)
    segments = [((0.0, a), (1.0, b)) for a, b in both.itertuples(index=False)]
    ax.add_collection(
        LineCollection(
            segments,
            colors="#7f7f7f",
            alpha=max(0.08, min(0.5, 20.0 / n)),
            linewidths=0.8,
            label=text("individual", language),
        )
    )
    m_pre, m_post = float(both["pre"].mean()), float(both["post"].mean())
    color = sns.color_palette("colorblind")[0]
    ax.plot(
        [0, 1],
        [m_pre, m_post],
        color=color,
        linewidth=3,
        marker="o",
        markersize=8,
        label=text("mean", language),
    )
    ax.set_xlim(-0.25, 1.25)
    low, high = float(both.min().min()), float(both.max().max())
    pad = (high - low) * 0.05 or 0.5
    ax.set_ylim(low - pad, high + pad)
    ax.set_xticks([0, 1], [text("pre", language), text("post", language)])
    ax.yaxis.set_major_formatter(_tick_formatter(language))
    ax.set_ylabel(ylabel or text("score", language))
    if title:
        ax.set_title(title)
    # below the axes: individual lines fill the whole plot area, so "best" still overlaps them
    ax.legend(frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncols=2)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    description = {
        "nl": f"Lijndiagram van voormeting naar nameting voor {n} respondenten; het gemiddelde "
        f"gaat van {fmt_num(m_pre, lang='nl')} naar {fmt_num(m_post, lang='nl')}.",
        "en": f"Line chart from pretest to posttest for {n} respondents; the mean goes from "
        f"{fmt_num(m_pre, lang='en')} to {fmt_num(m_post, lang='en')}.",
    }[language]
    return _set_alt(fig, description)


# --------------------------------------------------------------------------- forest
def forest_plot(
    data: pd.DataFrame,
    estimate: str = "d_z",
    ci_low: str | None = None,
    ci_high: str | None = None,
    *,
    label: str | None = None,
    n_col: str | None = "n",
    lang: str = "nl",
    min_n: int = DEFAULT_MIN_N,
    xlabel: str | None = None,
    reference: float | None = 0.0,
    title: str | None = None,
) -> Figure:
    """Forest plot: one effect size with its confidence interval per row.

    Parameters
    ----------
    data
        One row per team, programme or group, e.g. ``paired_change`` results stacked
        with the group as index.
    estimate
        Effect-size column (default ``"d_z"``).
    ci_low, ci_high
        CI columns; default ``<estimate>_ci_low`` / ``<estimate>_ci_high``.
    label
        Column with row labels; default the index.
    n_col
        Column with the number of respondents; rows below ``min_n`` are not drawn
        (their label says so).  ``None`` if the table has no count (then the caller is
        responsible for suppression).
    lang, min_n, xlabel, title
        Language, minimum group size, axis label, optional title.
    reference
        Draw a vertical line here (no effect); ``None`` for none.

    Returns
    -------
    matplotlib.figure.Figure
        CIs are one :class:`~matplotlib.collections.LineCollection`; estimates are a
        :class:`~matplotlib.collections.PathCollection` (squares; diamonds for total rows).
    """
    language = check_lang(lang)
    threshold = check_min_n(min_n)
    ci_low = ci_low or f"{estimate}_ci_low"
    ci_high = ci_high or f"{estimate}_ci_high"
    needed = [estimate, ci_low, ci_high] + ([label] if label else []) + ([n_col] if n_col else [])
    _require_columns(data, needed, "estimate/ci_low/ci_high/label/n_col")
    est = _numeric(data, estimate).to_numpy()
    lo = _numeric(data, ci_low).to_numpy()
    hi = _numeric(data, ci_high).to_numpy()
    names = [str(v) for v in (data[label] if label else data.index)]
    if n_col:
        shown = np.array([is_publishable(v, threshold) for v in data[n_col]])
    else:
        shown = np.ones(len(data), dtype=bool)
    shown &= ~np.isnan(est)
    if not shown.any():
        return _suppressed_figure(threshold, language)
    fig, ax = _new_figure(7.0, 1.2 + 0.4 * len(data))
    y = np.arange(len(data), dtype="float64")
    segments = [
        ((lo[i], y[i]), (hi[i], y[i])) for i in range(len(data)) if shown[i] and not np.isnan(lo[i])
    ]
    ax.add_collection(LineCollection(segments, colors="#333333", linewidths=1.5))
    is_total = np.array([n in TOTAL_LABELS for n in names])
    color = sns.color_palette("colorblind")[0]
    markers = np.where(is_total, "D", "s")
    for marker in ("s", "D"):
        pick = shown & (markers == marker)
        if pick.any():
            ax.scatter(
                est[pick],
                y[pick],
                marker=marker,
                s=60 if marker == "s" else 90,
                color=color,
                zorder=3,
            )
    if reference is not None:
        ax.axvline(reference, color="#555555", linestyle="--", linewidth=0.8)
    tick_names = [
        name if ok else f"{name} ({text('suppressed_figure_short', language, min_n=threshold)})"
        for name, ok in zip(names, shown, strict=True)
    ]
    ax.set_yticks(y, tick_names)
    ax.set_ylim(len(data) - 0.5, -0.5)
    finite = np.concatenate(
        [lo[shown], hi[shown], est[shown], [reference] if reference is not None else []]
    )
    finite = finite[~np.isnan(finite)]
    span = float(finite.max() - finite.min()) or 1.0
    ax.set_xlim(float(finite.min()) - 0.05 * span, float(finite.max()) + 0.05 * span)
    ax.xaxis.set_major_formatter(_tick_formatter(language))
    symbol = _STAT_LABELS.get(estimate, estimate)
    ax.set_xlabel(xlabel or f"{text('effect_size', language)} {symbol} ({text('ci', language)})")
    if title:
        ax.set_title(title)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    idx = np.flatnonzero(shown)
    i_min, i_max = idx[np.argmin(est[idx])], idx[np.argmax(est[idx])]
    plain = estimate
    description = {
        "nl": f"Forestplot van {plain} met 95%-betrouwbaarheidsintervallen voor {int(shown.sum())} "
        f"groepen; van {fmt_num(est[i_min], lang='nl')} ({names[i_min]}) tot "
        f"{fmt_num(est[i_max], lang='nl')} ({names[i_max]}).",
        "en": f"Forest plot of {plain} with 95% confidence intervals for {int(shown.sum())} groups; "
        f"from {fmt_num(est[i_min], lang='en')} ({names[i_min]}) to "
        f"{fmt_num(est[i_max], lang='en')} ({names[i_max]}).",
    }[language]
    hidden = len(data) - int(shown.sum())
    if hidden:
        description += {
            "nl": f" {hidden} groep(en) niet getoond (n < {threshold}).",
            "en": f" {hidden} group(s) not shown (n < {threshold}).",
        }[language]
    return _set_alt(fig, description)


# --------------------------------------------------------------------------- item-total
def item_total_plot(
    items: pd.DataFrame,
    *,
    column: str = "item_rest_r",
    threshold: float | None = 0.30,
    item_labels: Mapping[str, str] | None = None,
    n_col: str | None = "n",
    lang: str = "nl",
    min_n: int = DEFAULT_MIN_N,
    title: str | None = None,
) -> Figure:
    """Item-rest correlation per item (a lollipop chart) with a lower bound.

    Parameters
    ----------
    items
        The ``.items`` table of a reliability result (indexed by item).
    column
        Correlation column (default ``"item_rest_r"``).
    threshold
        Dashed reference line; items below it get an ``X`` marker (not only a colour).
        ``None`` for no line.  .30 is a common lower bound for r_ir.
    item_labels, n_col, lang, min_n, title
        Display names, count column (items with fewer answers are not drawn), language,
        minimum, title.

    Returns
    -------
    matplotlib.figure.Figure
        Stems are a :class:`~matplotlib.collections.LineCollection`, heads one or two
        :class:`~matplotlib.collections.PathCollection` (above / below the threshold).
    """
    language = check_lang(lang)
    minimum = check_min_n(min_n)
    _require_columns(items, [column] + ([n_col] if n_col else []), "column/n_col")
    r = _numeric(items, column).to_numpy()
    names = [str((item_labels or {}).get(str(i), str(i))) for i in items.index]
    shown = ~np.isnan(r)
    if n_col:
        shown &= np.array([is_publishable(v, minimum) for v in items[n_col]])
    if not shown.any():
        return _suppressed_figure(minimum, language)
    fig, ax = _new_figure(6.0, 1.0 + 0.35 * len(items))
    y = np.arange(len(items), dtype="float64")
    ax.add_collection(
        LineCollection(
            [((0.0, y[i]), (r[i], y[i])) for i in np.flatnonzero(shown)],
            colors="#7f7f7f",
            linewidths=1.2,
        )
    )
    palette = sns.color_palette("colorblind")
    low = shown & (r < threshold) if threshold is not None else np.zeros_like(shown)
    high = shown & ~low
    if high.any():
        ax.scatter(r[high], y[high], marker="o", s=50, color=palette[0], zorder=3)
    if low.any():
        ax.scatter(r[low], y[low], marker="X", s=70, color=palette[3], zorder=3)
    if threshold is not None:
        ax.axvline(
            threshold,
            color="#555555",
            linestyle="--",
            linewidth=0.8,
            label=f"{text('threshold', language)} {fmt_num(threshold, lang=language, stat='r')}",
        )
        ax.legend(frameon=False, loc="lower right")
    ax.axvline(0, color="#333333", linewidth=0.6)
    tick_names = [
        name if ok else f"{name} ({text('suppressed_figure_short', language, min_n=minimum)})"
        for name, ok in zip(names, shown, strict=True)
    ]
    ax.set_yticks(y, tick_names)
    ax.set_ylim(len(items) - 0.5, -0.5)
    ax.set_xlim(min(-0.05, float(np.nanmin(r[shown])) - 0.05), 1.0)
    ax.xaxis.set_major_formatter(
        FuncFormatter(lambda v, _pos: "0" if v == 0 else fmt_num(v, 1, lang=language, stat="r"))
    )
    ax.set_xlabel(text("item_rest", language))
    if title:
        ax.set_title(title)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    idx = np.flatnonzero(shown)
    i_min, i_max = idx[np.argmin(r[idx])], idx[np.argmax(r[idx])]
    description = {
        "nl": f"Item-restcorrelaties van {int(shown.sum())} items, van "
        f"{fmt_num(r[i_min], lang='nl', stat='r')} ({names[i_min]}) tot "
        f"{fmt_num(r[i_max], lang='nl', stat='r')} ({names[i_max]})",
        "en": f"Item-rest correlations of {int(shown.sum())} items, from "
        f"{fmt_num(r[i_min], lang='en', stat='r')} ({names[i_min]}) to "
        f"{fmt_num(r[i_max], lang='en', stat='r')} ({names[i_max]})",
    }[language]
    if threshold is not None:
        below = [names[i] for i in np.flatnonzero(low)]
        bound = fmt_num(threshold, lang=language, stat="r")
        description += {
            "nl": f"; {len(below)} onder {bound}" + (f": {', '.join(below)}" if below else ""),
            "en": f"; {len(below)} below {bound}" + (f": {', '.join(below)}" if below else ""),
        }[language]
    return _set_alt(fig, description + ".")
