"""Reproducible bytes of every file of the synthetic demo folder.

Each function returns a file's content; :func:`ipo_research.io.writers.atomic_write_bytes`
puts it on disk (the only code that writes data).  Timestamps that libraries normally take
from the clock are fixed: the Excel zip entries and document properties, and the creation
date in the SPSS header, all carry :data:`EXPORT_TIME` (the end of the last cohort).
"""

from __future__ import annotations

import csv
import io
import json
import re
import tempfile
import zipfile
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from ipo_research.errors import WriteError

#: The moment every generated file claims to have been exported.
EXPORT_TIME = datetime(2024, 7, 1, 9, 0, 0)


def csv_bytes(table: pd.DataFrame, *, encoding: str, sep: str = ";") -> bytes:
    """Return a Dutch Excel-style CSV (``;``, CRLF) of a table of strings.

    Parameters
    ----------
    table
        Cells already formatted as text (empty string for empty cells).
    encoding
        ``"utf-8-sig"`` (UTF-8 with BOM) or ``"cp1252"``.
    sep
        Field separator.

    Returns
    -------
    bytes
    """
    text = table.to_csv(sep=sep, index=False, lineterminator="\r\n")
    try:
        return text.encode(encoding)
    except UnicodeEncodeError as err:
        raise WriteError(f"text cannot be encoded as {encoding}: {err.object[err.start:err.end]!r}",
                         hint="use names from the Latin-1 range for cp1252 exports") from err


def qualtrics_bytes(table: pd.DataFrame, texts: Sequence[str], imports: Sequence[str]) -> bytes:
    """Return a Qualtrics-style CSV: names, question texts and ImportId rows, then data.

    Parameters
    ----------
    table
        Cells as text.
    texts, imports
        Second and third header rows.

    Returns
    -------
    bytes
        UTF-8 with BOM, comma separated, CRLF.
    """
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(list(table.columns))
    writer.writerow(list(texts))
    writer.writerow(list(imports))
    writer.writerows(table.astype(str).itertuples(index=False, name=None))
    return buf.getvalue().encode("utf-8-sig")


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MODIFIED = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")


def xlsx_bytes(table: pd.DataFrame, *, sheet: str) -> bytes:
    """Return an ``.xlsx`` workbook of one sheet with fixed timestamps.

    Parameters
    ----------
    table
        The sheet's content (numbers stay numbers, text stays text, ``None`` is empty).
    sheet
        Sheet name.

    Returns
    -------
    bytes
    """
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as xw:
        table.to_excel(xw, sheet_name=sheet, index=False)
        props = xw.book.properties
        props.creator = "ipo_research.synth"
        props.created = EXPORT_TIME
    stamp = EXPORT_TIME.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    out = io.BytesIO()
    with zipfile.ZipFile(buf) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "docProps/core.xml":
                data = _MODIFIED.sub(rb"\g<1>" + stamp + rb"\g<2>", data)
            fixed = zipfile.ZipInfo(info.filename, date_time=EXPORT_TIME.timetuple()[:6])
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o600 << 16
            dst.writestr(fixed, data)
    return out.getvalue()


def sav_bytes(table: pd.DataFrame, *, column_labels: Mapping[str, str],
              value_labels: Mapping[str, Mapping[int | float, str]],
              missing: Mapping[str, list[int]], file_label: str) -> bytes:
    """Return an SPSS ``.sav`` file with value labels and a fixed creation date.

    Parameters
    ----------
    table
        Text and numeric columns with SPSS-valid names.
    column_labels
        Variable labels (e.g. the export's original column names).
    value_labels
        Value labels per variable.
    missing
        User-missing codes per variable.
    file_label
        SPSS file label.

    Returns
    -------
    bytes
    """
    import pyreadstat

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "out.sav"
        try:
            pyreadstat.write_sav(
                table, path, file_label=file_label,
                column_labels={c: column_labels.get(c) for c in table.columns},
                variable_value_labels={k: dict(v) for k, v in value_labels.items()},
                missing_ranges={k: list(v) for k, v in missing.items()},
            )
        except Exception as err:  # pyreadstat raises its own and plain exceptions
            raise WriteError(f"pyreadstat cannot write the SPSS file: {err}",
                             hint="check column names (letters, digits, _ ; no spaces)") from err
        data = bytearray(path.read_bytes())
    # SPSS header: creation date 'dd Mon yy' at byte 92 and time 'hh:mm:ss' at byte 101.
    if data[:4] != b"$FL2":
        raise WriteError("unexpected SPSS header written by pyreadstat",
                         hint="report this: the header layout is assumed to be '$FL2'")
    month = _MONTHS[EXPORT_TIME.month - 1]  # not %b: that depends on the locale
    data[92:101] = f"{EXPORT_TIME:%d} {month} {EXPORT_TIME:%y}".encode("ascii")
    data[101:109] = EXPORT_TIME.strftime("%H:%M:%S").encode("ascii")
    return bytes(data)


def json_bytes(data: Any) -> bytes:
    """Return stable, human-readable JSON (sorted keys, 2-space indent, final newline)."""
    return (json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


