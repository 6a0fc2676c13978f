"""The :class:`Instrument` definition: structure of a questionnaire, no item texts.

This dataclass is the contract between the instrument registry (which builds it from
YAML), cleaning (which recodes, reverse-keys and scores with it) and the reports.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Instrument:
    """Structure of one questionnaire.

    Attributes
    ----------
    name
        Short name, e.g. ``"RIPLS"``.
    items
        Item identifiers in questionnaire order (``"q1"``, ``"q2"``...).  Cleaning produces
        one numeric column per item with exactly these names.
    scale_min, scale_max
        Theoretical response range (integers).  Reverse keying is ``min + max - x``.
    reverse
        Items that are reverse-keyed (scored ``min + max - x``).
    subscales
        Subscale name -> items.  Each subscale gets a score column named after the subscale.
    labels
        Language code (``"nl"``, ``"en"``) -> response labels from ``scale_min`` to ``scale_max``.
    min_answered
        Minimum share (0-1] of a (sub)scale's items that must be answered for a score.
    scoring
        Scoring rule; only ``"mean"`` is supported.
    total
        Name of the total-score column, or ``None`` for no total.
    retrospective
        Pairs for retrospective pre/post designs (ICCAS): ``{"before": suffix, "now": suffix}``
        or empty.  See the registry docs for the meaning.
    not_scored
        Items recorded but excluded from subscale and total scores (e.g. ICCAS global item 21).
    na_labels
        Answers that mean "not applicable" and become missing without counting as out of range.
    kirkpatrick
        Barr's modified Kirkpatrick level (``"1"``, ``"2a"``, ``"2b"``, ``"3"``, ``"4a"``, ``"4b"``).
    citation
        Reference for the instrument.
    description
        Free text (Dutch or English) about the instrument.
    item_labels
        Item -> language -> labels, for items whose response labels differ from the
        instrument's (e.g. ICCAS item 21, "much better now" .. "much worse now").  Same
        number of points as the scale.
    notes
        Caveats about the definition, e.g. an item-to-subscale map that is not verified
        against the original publication.
    unverified
        Keys of the definition (``"subscales"``, ``"reverse"``, ``"scale"``...) whose content
        is not verified against the original publication; see ``notes``.
    source
        Where the definition came from (``"built-in:ripls.yaml"`` or a file path).  Not part
        of equality.
    """

    name: str
    items: tuple[str, ...]
    scale_min: int
    scale_max: int
    reverse: tuple[str, ...] = ()
    subscales: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    labels: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    min_answered: float = 0.75
    scoring: str = "mean"
    total: str | None = "total"
    retrospective: Mapping[str, str] = field(default_factory=dict)
    not_scored: tuple[str, ...] = ()
    na_labels: tuple[str, ...] = ()
    kirkpatrick: str | None = None
    citation: str | None = None
    description: str | None = None
    item_labels: Mapping[str, Mapping[str, tuple[str, ...]]] = field(default_factory=dict)
    notes: str | None = None
    unverified: tuple[str, ...] = ()
    source: str | None = field(default=None, compare=False)

    @property
    def n_points(self) -> int:
        """Number of response options."""
        return self.scale_max - self.scale_min + 1

    @property
    def scored_items(self) -> tuple[str, ...]:
        """Items that enter the total score (all items minus ``not_scored``)."""
        return tuple(i for i in self.items if i not in self.not_scored)

    def item_scale_labels(self, item: str, lang: str) -> tuple[str, ...]:
        """Return the response labels of ``item`` in language ``lang`` (``()`` if none).

        Item-specific labels (``item_labels``) win over the instrument's labels.
        """
        specific = self.item_labels.get(item, {})
        if lang in specific:
            return tuple(specific[lang])
        return tuple(self.labels.get(lang, ()))

    def label_codes(self, item: str | None = None) -> dict[str, int]:
        """Map every response label (all languages, case-folded, stripped) to its code.

        Parameters
        ----------
        item
            Use the labels of this item (its ``item_labels`` if any); ``None`` uses the
            instrument's labels.

        Returns
        -------
        dict
            ``{"helemaal mee oneens": 1, "strongly disagree": 1, ...}``.  ``na_labels`` are not
            included: they mean missing, not a code.
        """
        langs = set(self.labels)
        if item is not None:
            langs |= set(self.item_labels.get(item, {}))
        codes: dict[str, int] = {}
        for lang in sorted(langs):
            labels = self.item_scale_labels(item, lang) if item is not None else self.labels[lang]
            for offset, label in enumerate(labels):
                codes[label.strip().casefold()] = self.scale_min + offset
        return codes

    def subscales_of(self, item: str) -> tuple[str, ...]:
        """Names of the subscales that contain ``item`` (usually one, possibly none)."""
        return tuple(name for name, items in self.subscales.items() if item in items)
