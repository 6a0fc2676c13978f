"""The options of :func:`ipo_research.cleaning.clean`, gathered in one frozen dataclass.

Every quality rule is configurable here and every rule shows up in the audit, also when
it changed nothing, so a reader of the audit sees which rules ran and with what setting.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Any, Literal

from ipo_research.errors import CleaningError

RuleAction = Literal["drop", "flag", "off"]
DuplicatePolicy = Literal["latest_complete", "latest", "first", "keep"]

#: Default wave labels (compared case- and whitespace-insensitively) -> tidy wave names.
DEFAULT_WAVES: Mapping[str, str] = MappingProxyType(
    {
        "voormeting": "pre",
        "nulmeting": "pre",
        "pre": "pre",
        "pretest": "pre",
        "t0": "pre",
        "nameting": "post",
        "post": "post",
        "posttest": "post",
        "t1": "post",
    }
)

_ACTIONS = ("drop", "flag", "off")
_DUPLICATES = ("latest_complete", "latest", "first", "keep")


@dataclass(frozen=True)
class CleaningRules:
    """Options of the cleaning rules.  All have defaults that suit the demo exports.

    Parameters
    ----------
    duplicates
        Several submissions of one respondent in one wave: ``"latest_complete"`` keeps the
        latest submission among those with enough answered items for a score (the latest
        of all when none is complete), ``"latest"`` the latest, ``"first"`` the earliest,
        ``"keep"`` keeps them all (the output then has more than one row per respondent and
        wave, and is refused by the schema).  "Latest" is by ``timestamp``, ties and
        missing timestamps by position in the file.
    speeders
        ``"drop"``, ``"flag"`` (a boolean column ``flag_speeder``) or ``"off"``.  A speeder
        took less than ``speeder_fraction`` x the median duration of the export, or less
        than ``speeder_seconds`` when that is given.
    speeder_fraction, speeder_seconds
        Threshold of the speeder rule (relative to the median of all rows of the export
        with a duration, or absolute in seconds).
    straightlining
        ``"drop"``, ``"flag"`` (``flag_straightline``) or ``"off"``.  A straight-liner gave
        the same answer to every answered scored item (before reverse keying) while
        answering at least ``straightline_min_items`` items (default: the share
        ``min_answered`` of the scored items, at least 3).
    straightline_min_items
        See ``straightlining``.
    too_few
        Rows with a share of answered scored items below ``min_answered``: ``"flag"``
        (default: kept with ``flag_too_few`` True and a missing total score, so the row
        still counts for response rates) or ``"drop"``.
    min_answered
        Overrides the instrument's minimum share (0-1] of answered items for a score.
    identifiers
        Extra columns that identify people; they are removed like detected identifiers.
    keep
        Context columns to keep (by raw name).  ``None`` keeps every column that is not an
        item, not the respondent or wave column, not a rule's metadata column (duration,
        timestamp) and not detected as an identifier.  A listed column that is detected as
        an identifier is refused with a :class:`~ipo_research.errors.PrivacyError`.
    waves
        Raw wave label -> tidy wave name (case- and whitespace-insensitive).  Rows whose
        wave is missing or not in the mapping are dropped and counted.
    duration
        Column with the duration in seconds; ``None`` detects ``Duur...``/``Duration...``.
    timestamp
        Column with the submission time used by the duplicate rule; ``None`` detects
        ``Einddatum``/``EndDate``/``RecordedDate``/``submitdate``.
    na_values
        Extra answers meaning "not applicable" (besides the instrument's ``na_labels``).
    strict
        Raise a :class:`~ipo_research.errors.CleaningError` at the first item answer that
        is neither a number nor a label, instead of setting it missing and counting it.
    drop_unmatched
        Drop respondents not seen in every wave present in the export (default: flag them
        in the ``matched`` column and count them in the audit).
    retro_suffix
        Suffix of the retrospective ("before") item and score columns; default: the
        instrument's ``retrospective["before"]`` (``_before`` for ICCAS: ``q1_before``,
        ``total_before``), else ``"_retro"``.
    """

    duplicates: DuplicatePolicy = "latest_complete"
    speeders: RuleAction = "drop"
    speeder_fraction: float = 1 / 3
    speeder_seconds: float | None = None
    straightlining: RuleAction = "drop"
    straightline_min_items: int | None = None
    too_few: Literal["drop", "flag"] = "flag"
    min_answered: float | None = None
    identifiers: tuple[str, ...] = ()
    keep: tuple[str, ...] | None = None
    waves: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_WAVES))
    duration: str | None = None
    timestamp: str | None = None
    na_values: tuple[str, ...] = ()
    strict: bool = False
    drop_unmatched: bool = False
    retro_suffix: str | None = None

    def __post_init__(self) -> None:
        for name, allowed in (
            ("speeders", _ACTIONS),
            ("straightlining", _ACTIONS),
            ("too_few", ("drop", "flag")),
            ("duplicates", _DUPLICATES),
        ):
            value = getattr(self, name)
            if value not in allowed:
                raise CleaningError(
                    f"unknown value {value!r} for rule {name!r}",
                    context={"parameter": name},
                    hint=f"use one of {', '.join(map(repr, allowed))}",
                )
        if not 0 < self.speeder_fraction < 1:
            raise CleaningError(
                f"speeder_fraction must lie between 0 and 1, got {self.speeder_fraction}",
                context={"parameter": "speeder_fraction"},
                hint="use e.g. 0.333 (a third of the median duration)",
            )
        if self.speeder_seconds is not None and self.speeder_seconds <= 0:
            raise CleaningError(
                f"speeder_seconds must be positive, got {self.speeder_seconds}",
                context={"parameter": "speeder_seconds"},
                hint="give a number of seconds or leave it out",
            )
        if self.min_answered is not None and not 0 < self.min_answered <= 1:
            raise CleaningError(
                f"min_answered must lie in (0, 1], got {self.min_answered}",
                context={"parameter": "min_answered"},
                hint="use a share such as 0.75",
            )
        if self.straightline_min_items is not None and self.straightline_min_items < 2:
            raise CleaningError(
                f"straightline_min_items must be at least 2, got {self.straightline_min_items}",
                context={"parameter": "straightline_min_items"},
                hint="use the number of answered items needed to call a row straight-lined",
            )
        if self.retro_suffix is not None and not self.retro_suffix:
            raise CleaningError(
                "retro_suffix must not be empty",
                context={"parameter": "retro_suffix"},
                hint="use e.g. '_retro'",
            )
        # normalise the sequences given as lists (YAML) to tuples, keep the object frozen
        for name in ("identifiers", "na_values"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        if self.keep is not None:
            object.__setattr__(self, "keep", tuple(self.keep))
        waves = {_norm_label(k): str(v) for k, v in dict(self.waves).items()}
        object.__setattr__(self, "waves", MappingProxyType(waves))

    @classmethod
    def from_mapping(cls, options: Mapping[str, Any], *, where: str | None = None) -> CleaningRules:
        """Build rules from a mapping (a project file's ``rules:``), refusing unknown keys.

        Parameters
        ----------
        options
            Option name -> value, names as the dataclass fields.
        where
            Where the mapping comes from (for the error message), e.g. a file name.

        Returns
        -------
        CleaningRules
        """
        known = {f.name for f in fields(cls)}
        for key in options:
            if key not in known:
                raise CleaningError(
                    f"unknown cleaning rule {key!r}",
                    file=where,
                    context={"key": key},
                    hint=f"use one of {', '.join(sorted(known))}",
                )
        try:
            return cls(**dict(options))
        except (TypeError, ValueError) as err:  # a value of the wrong type (text for a number)
            raise CleaningError(f"a cleaning rule has a value of the wrong type: {err}", file=where,
                                context={"key": "rules"}, hint="give numbers for fractions, "
                                "seconds and counts, lists for keep/identifiers/na_values, a "
                                "mapping for waves") from err

    def as_dict(self) -> dict[str, Any]:
        """Return the options as plain JSON-serialisable values (for the audit JSON)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, Mapping):
                value = dict(value)
            elif isinstance(value, tuple):
                value = list(value)
            out[f.name] = value
        return out


def _norm_label(value: object) -> str:
    """Casefold and collapse whitespace: the comparison form of labels and wave names."""
    return " ".join(str(value).split()).casefold()
