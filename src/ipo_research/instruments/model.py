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

    @property
    def n_points(self) -> int:
        """Number of response options."""
        return self.scale_max - self.scale_min + 1

    @property
    def scored_items(self) -> tuple[str, ...]:
        """Items that enter the total score (all items minus ``not_scored``)."""
        return tuple(i for i in self.items if i not in self.not_scored)
