"""Detect columns that identify people, by column name and by content.

Direct identifiers (names, e-mail addresses, student numbers, phone numbers, IP
addresses, postcodes, free text) must never reach processed data.  :func:`clean` keeps
only item columns and context columns that pass these checks; this module says which
columns fail them and why.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

#: Column names (normalised: casefolded, only letters and digits) that identify people.
_NAME_PATTERNS: tuple[re.Pattern[str], ...] = tuple(
    re.compile(p)
    for p in (
        r"^(voor|achter|roep|familie|tussen|first|last|full|sur|user|display|student|respondent|deelnemer)?(naam|name)$",
        r"naam$",
        r"^name",
        r"e?mail",
        r"^(tel|telefoon|telefoonnummer|telnr|phone|phonenumber|mobiel|mobile|gsm)",
        r"(studentnummer|studentnr|studentid|leerlingnummer|personeelsnummer|bsn|burgerservicenummer)",
        r"^(respondentid|responseid|externalreference|externaldatareference|recipient.*)$",
        r"^(ip|ipaddress|ipadres)$",
        r"^(adres|address|straat|street|postcode|zipcode|woonplaats)",
        r"^location(latitude|longitude)$",
        r"(geboortedatum|geboortejaar|dateofbirth|birth)",
        r"^(opmerking|opmerkingen|toelichting|comment|comments|feedback|vrijetekst|freetext)",
    )
)

_EMAIL = r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}"
_PHONE = r"(\+|00|0)\d[\d\s\-()]{7,}\d"
_STUDENT = r"\d{6,9}"
_IPV4 = r"(\d{1,3}\.){3}\d{1,3}"
_POSTCODE = r"\d{4}\s?[A-Za-z]{2}"
#: Content patterns (a full match of the stripped value) and their meaning.
_CONTENT_PATTERNS: tuple[tuple[str, str], ...] = (
    (_EMAIL, "e-mail addresses"),
    (_IPV4, "IP addresses"),
    (_STUDENT, "student-number-like numbers (6-9 digits)"),
    (_PHONE, "phone numbers"),
    (_POSTCODE, "postcodes"),
)
#: Share of non-empty values that must match a content pattern.
CONTENT_SHARE = 0.5
#: Text columns with at least this many values, nearly all distinct, are free text or names.
FREE_TEXT_MIN_VALUES = 20
FREE_TEXT_UNIQUE_SHARE = 0.8
#: Content checks look at an evenly spaced sample of at most this many values.
SAMPLE = 5000


@dataclass(frozen=True)
class IdentifierColumn:
    """A column found to identify people.

    Attributes
    ----------
    column
        Raw column name.
    basis
        ``"name"``, ``"content"``, ``"listed"`` (by the user) or ``"respondent"``.
    detail
        Why, e.g. ``"e-mail addresses"``.
    """

    column: str
    basis: str
    detail: str


def _norm_name(name: str) -> str:
    return re.sub(r"[^0-9a-z]", "", str(name).casefold())


def identifier_by_name(column: str) -> bool:
    """Return whether a column *name* marks a direct identifier.

    Examples
    --------
    >>> [identifier_by_name(c) for c in ["Naam", "E-mail", "Telefoon", "Regio", "Leerteam"]]
    [True, True, True, False, False]
    """
    norm = _norm_name(column)
    return any(p.search(norm) for p in _NAME_PATTERNS)


def identifier_by_content(values: pd.Series) -> str | None:
    """Return what a column's *content* reveals (e.g. ``"e-mail addresses"``) or ``None``.

    Only distinct values are inspected, so this is cheap on large exports.  Numeric
    columns are checked for student-number-like integers; text columns for e-mail
    addresses, IP addresses, student and phone numbers and postcodes (at least half of
    the non-empty values match), and for free text or names (nearly every value distinct
    and containing letters).
    """
    present = np.flatnonzero(values.notna().to_numpy())
    if len(present) > SAMPLE:
        # an evenly spaced sample: shares of patterns are estimated, not counted
        present = present[np.linspace(0, len(present) - 1, SAMPLE).astype(int)]
    data = values.iloc[present]
    if data.empty:
        return None
    if pd.api.types.is_bool_dtype(data):
        return None
    if pd.api.types.is_numeric_dtype(data):
        numbers = pd.to_numeric(data, errors="coerce").dropna()
        whole = numbers[(numbers % 1 == 0) & (numbers >= 100_000) & (numbers < 1_000_000_000)]
        if len(numbers) and len(whole) / len(numbers) >= CONTENT_SHARE:
            return "student-number-like numbers (6-9 digits)"
        return None
    if pd.api.types.is_datetime64_any_dtype(data):
        return None
    counts = data.astype(str).str.strip().value_counts()
    counts = counts[counts.index != ""]
    total = int(counts.sum())
    if total == 0:
        return None
    uniques = pd.Series(counts.index, dtype=object).astype(str)
    weights = counts.to_numpy()
    for pattern, meaning in _CONTENT_PATTERNS:
        hit = uniques.str.fullmatch(pattern).to_numpy(dtype=bool)
        if weights[hit].sum() / total >= CONTENT_SHARE:
            return meaning
    if total >= FREE_TEXT_MIN_VALUES and len(counts) / total >= FREE_TEXT_UNIQUE_SHARE:
        letters = uniques.str.contains(r"[^\W\d_]", regex=True).to_numpy(dtype=bool)
        if weights[letters].sum() / total >= CONTENT_SHARE:
            return "free text or names (nearly every answer distinct)"
    return None


def find_identifiers(
    frame: pd.DataFrame,
    *,
    skip: Iterable[str] = (),
    listed: Iterable[str] = (),
) -> list[IdentifierColumn]:
    """Return the columns of ``frame`` that identify people.

    Parameters
    ----------
    frame
        The raw export.
    skip
        Columns not to inspect (item columns: their content is recoded separately).
    listed
        Columns the user declares identifying.

    Returns
    -------
    list of IdentifierColumn
        In column order.
    """
    skip_set = set(skip)
    listed_set = set(listed)
    found: list[IdentifierColumn] = []
    for column in frame.columns:
        name = str(column)
        if name in listed_set:
            found.append(IdentifierColumn(name, "listed", "listed as identifier"))
        elif name in skip_set:
            continue
        elif identifier_by_name(name):
            found.append(IdentifierColumn(name, "name", "column name"))
        else:
            detail = identifier_by_content(frame[column])
            if detail is not None:
                found.append(IdentifierColumn(name, "content", detail))
    return found
