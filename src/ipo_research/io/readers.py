"""Readers for survey exports (CSV/TSV/TXT, Excel, SPSS) and YAML files.

:func:`read_survey` returns the export as a :class:`pandas.DataFrame` with answer columns as
the file holds them (numbers or text; labels are not recoded here) and provenance in
``df.attrs``:

==================  =====================================================================
``file``            path of the file read (as given)
``format``          ``"csv"``, ``"xlsx"`` or ``"sav"``
``sha256``          SHA-256 of the file's bytes
``encoding``        text encoding used (CSV; ``None`` for xlsx; the file's for sav)
``delimiter``       field separator (CSV only, else ``None``)
``decimal``         decimal mark (CSV only, else ``None``)
``row_offset``      the spreadsheet row (line) a user sees for positional row ``i`` is
                    ``i + row_offset`` (2 for a one-line header, 4 for Qualtrics exports,
                    ``None`` for SPSS files, which have no visible rows)
``sheet``           sheet read (xlsx only)
``qualtrics``       ``True`` when Qualtrics' 3-row header was recognised and dropped
``question_texts``  column -> question text (Qualtrics row 2, SPSS variable labels)
``import_ids``      column -> Qualtrics ImportId (Qualtrics only)
``value_labels``    column -> {code: label} (SPSS only; codes stay numeric in the data)
``dropped_columns`` columns dropped because their header and all values were empty
==================  =====================================================================

``row_offset`` assumes no blank lines are skipped and no quoted field spans several lines
before the row; both are rare in survey exports.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
import re
import threading
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from ipo_research.errors import ReadError

__all__ = [
    "READ_OPTIONS",
    "SUPPORTED_EXTENSIONS",
    "parse_yaml",
    "read_survey",
    "read_yaml",
    "sniff_text",
]

_TEXT_EXT = (".csv", ".tsv", ".txt")
_EXCEL_EXT = (".xlsx", ".xlsm")
_SPSS_EXT = (".sav", ".zsav")
#: File extensions :func:`read_survey` accepts.
SUPPORTED_EXTENSIONS: tuple[str, ...] = _TEXT_EXT + _EXCEL_EXT + _SPSS_EXT
#: Options of :func:`read_survey` -> the file extensions they apply to.  Any other use is
#: refused: an option that would be ignored (``sheet=`` on a CSV file) hides a mistake.
READ_OPTIONS: dict[str, tuple[str, ...]] = {
    "sheet": _EXCEL_EXT,
    "encoding": _TEXT_EXT + _SPSS_EXT,
    "sep": _TEXT_EXT,
    "decimal": _TEXT_EXT,
    "text_columns": _TEXT_EXT,
}
_KIND = {**dict.fromkeys(_TEXT_EXT, "a text (CSV)"), **dict.fromkeys(_EXCEL_EXT, "an Excel"),
         **dict.fromkeys(_SPSS_EXT, "an SPSS")}
_WHY_NOT = {
    "sheet": "only Excel workbooks have sheets; a CSV or SPSS file holds one table",
    "encoding": "an Excel workbook stores its own encoding",
    "sep": "only CSV files have a field separator",
    "decimal": "only CSV files store numbers as text with a decimal mark",
    "text_columns": "only CSV columns are guessed from text; Excel and SPSS cells keep "
                    "their stored types",
}

_SAMPLE_BYTES = 64 * 1024
_DELIMITERS = (";", ",", "\t", "|")
_DECIMAL_COMMA = re.compile(r"^\s*[-+]?\d+,\d+\s*$")
_DECIMAL_POINT = re.compile(r"^\s*[-+]?\d+\.\d+\s*$")
_LEADING_ZERO = re.compile(r"^0\d+$")
_LINE_IN_MESSAGE = re.compile(r"line (\d+)")
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", "an Excel (.xlsx) or other zip file: rename it to .xlsx"),
    (b"\xd0\xcf\x11\xe0", "an old Excel (.xls) file: save it as .xlsx or CSV"),
    (b"$FL2", "an SPSS file: rename it to .sav"),
    (b"$FL3", "an SPSS file: rename it to .zsav"),
)


# --------------------------------------------------------------------------- YAML
def parse_yaml(text: str, *, source: str) -> Any:
    """Parse YAML text safely; errors name ``source`` and the line.

    Raises
    ------
    ReadError
        The text is not valid YAML.
    """
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        row = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ReadError(f"not valid YAML: {problem}", file=source, row=row,
                        hint="check indentation and quoting on that line") from exc


def read_yaml(path: str | Path) -> Any:
    """Read a UTF-8 YAML file (project files, instrument definitions).

    Raises
    ------
    ReadError
        The file is missing, not UTF-8 or not valid YAML.
    """
    path = Path(path)
    if path.is_dir():
        raise ReadError("this is a folder, not a file", file=str(path),
                        hint="give the path of the YAML file itself")
    if not path.is_file():
        raise ReadError("file not found", file=str(path),
                        hint="check the path (relative paths start from the working folder)")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ReadError(f"not UTF-8 text (byte offset {exc.start})", file=str(path),
                        hint="save the YAML file as UTF-8") from exc
    except OSError as exc:
        raise ReadError(f"cannot read file: {exc.strerror}", file=str(path),
                        hint="check the file's permissions (you need read access)") from exc
    return parse_yaml(text, source=str(path))


# --------------------------------------------------------------------------- helpers
def file_sha256(path: str | Path) -> str:
    """Return the SHA-256 hex digest of a file's content (provenance, manifests, caches)."""
    with Path(path).open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


class _Sha256Thread(threading.Thread):
    """SHA-256 of a file, computed while the file is parsed (hashlib releases the GIL on
    large buffers, so the two overlap); ``digest`` is ``None`` when reading failed."""

    def __init__(self, path: Path) -> None:
        super().__init__(name="ipo-sha256", daemon=True)
        self.path = path
        self.digest: str | None = None

    def run(self) -> None:
        try:
            self.digest = file_sha256(self.path)
        except OSError:  # read_survey hashes again and reports the error
            self.digest = None


def _check_file(path: Path) -> str:
    """Return the lower-case extension after checking that ``path`` is a readable, non-empty file."""
    if not path.exists():
        raise ReadError("file not found", file=str(path),
                        hint="check the path (relative paths start from the working folder)")
    if not path.is_file():
        raise ReadError("not a file (a folder?)", file=str(path), hint="give the path of an export")
    ext = path.suffix.lower()
    if ext not in SUPPORTED_EXTENSIONS:
        hint = "save the export as CSV, Excel (.xlsx) or SPSS (.sav)"
        if ext == ".xls":
            hint = "open it in Excel and save it as .xlsx (the old .xls format is not read)"
        raise ReadError(f"unknown file type {ext or '(no extension)'!r}", file=str(path),
                        hint=f"{hint}; supported: {', '.join(SUPPORTED_EXTENSIONS)}")
    if path.stat().st_size == 0:
        raise ReadError("the file is empty (0 bytes)", file=str(path),
                        hint="export the survey again")
    return ext


def _locate_decode_error(path: Path, encoding: str) -> tuple[int, int, str]:
    """Find the first byte ``encoding`` cannot decode: (byte offset, line, bad bytes)."""
    decoder = codecs.getincrementaldecoder(encoding)()
    offset = 0
    lines = 1
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                # The decoder may hold back up to a few bytes of the previous chunk.
                pending = len(exc.object) - len(chunk)
                pos = offset + exc.start - pending
                lines += exc.object[: exc.start].count(b"\n")
                return pos, lines, exc.object[exc.start : exc.end].hex(" ")
            lines += chunk.count(b"\n")
            offset += len(chunk)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            return offset - (len(exc.object) - exc.start), lines, exc.object[exc.start :].hex(" ")
    return -1, -1, ""


def _undecodable(path: Path, encoding: str, tried: Sequence[str]) -> ReadError:
    pos, line, bad = _locate_decode_error(path, encoding)
    where = f" at byte offset {pos} (bytes {bad})" if pos >= 0 else ""
    return ReadError(
        f"cannot decode the file as {' or '.join(tried)}{where}",
        file=str(path), row=None, context={"line": line} if line > 0 else {},
        hint="save the export as UTF-8 CSV, or pass encoding= with the file's encoding",
    )


def _detect_encoding(path: Path, sample: bytes) -> str:
    for bom, name in _BOMS:
        if sample.startswith(bom):
            return name
    for magic, what in _MAGIC:
        if sample.startswith(magic):
            raise ReadError(f"this is not a text file but {what.split(':')[0]}", file=str(path),
                            hint=what.split(": ", 1)[-1])
    if b"\x00" in sample:
        raise ReadError("the file holds NUL bytes: it is binary or UTF-16 without a BOM",
                        file=str(path), hint="save the export as UTF-8 CSV")
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
    except UnicodeDecodeError:
        pass
    else:
        return "utf-8"
    try:
        sample.decode("cp1252")
    except UnicodeDecodeError:
        raise _undecodable(path, "cp1252", ("UTF-8", "cp1252")) from None
    return "cp1252"


def _complete_records(text: str) -> str:
    """Cut ``text`` after its last line break (drop a partial last line of a sample)."""
    cut = text.rfind("\n")
    return text if cut < 0 else text[: cut + 1]


def _parse_rows(text: str, delimiter: str, limit: int = 50) -> list[list[str]]:
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    rows: list[list[str]] = []
    try:
        for row in reader:
            if row:
                rows.append(row)
            if len(rows) >= limit:
                break
    except csv.Error:
        pass
    return rows


def _detect_delimiter(text: str) -> str:
    """Pick the delimiter that splits the sample into the most, and consistent, fields."""
    best, best_score = ",", (-1, -1)
    for delim in _DELIMITERS:
        rows = _parse_rows(text, delim)
        if not rows:
            continue
        width = len(rows[0])
        consistent = sum(len(r) == width for r in rows) / len(rows)
        if width < 2:
            continue
        score = (int(consistent >= 0.9), width)
        if score > best_score:
            best, best_score = delim, score
    return best


def _detect_decimal(rows: Sequence[Sequence[str]], delimiter: str) -> str:
    if delimiter == ",":
        return "."
    comma = point = 0
    for row in rows[1:]:
        for field in row:
            if _DECIMAL_COMMA.match(field):
                comma += 1
            elif _DECIMAL_POINT.match(field):
                point += 1
    return "," if comma > point else "."


def _is_qualtrics(rows: Sequence[Sequence[str]]) -> bool:
    if len(rows) < 3:
        return False
    third = [f for f in rows[2] if f.strip()]
    return bool(third) and sum(f.lstrip().startswith('{"ImportId"') for f in third) >= 0.5 * len(third)


def _qualtrics_meta(rows: Sequence[Sequence[str]]) -> tuple[dict[str, str], dict[str, str]]:
    header, texts, ids = rows[0], rows[1], rows[2]
    question_texts = {name: text for name, text in zip(header, texts, strict=False)}
    import_ids: dict[str, str] = {}
    for name, raw in zip(header, ids, strict=False):
        try:
            value = json.loads(raw)
        except ValueError:
            continue
        if isinstance(value, Mapping) and "ImportId" in value:
            import_ids[name] = str(value["ImportId"])
    return question_texts, import_ids


def _check_header(path: Path, header: Sequence[str], line: int) -> None:
    seen: dict[str, int] = {}
    for number, name in enumerate(header, start=1):
        key = name.strip()
        if not key:
            continue
        if key in seen:
            raise ReadError(
                f"duplicate column name {key!r} (columns {seen[key]} and {number})",
                file=str(path), row=None, context={"line": line},
                hint="give every column a unique name in the export",
            )
        seen[key] = number


def _drop_empty_unnamed(df: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    dropped = [
        str(c) for c in df.columns
        if (str(c).startswith("Unnamed: ") or not str(c).strip()) and df[c].isna().all()
    ]
    if dropped:
        df = df.drop(columns=dropped)
    return df, dropped


# --------------------------------------------------------------------------- sniffing
def sniff_text(
    path: str | Path,
    *,
    encoding: str | None = None,
    sep: str | None = None,
    decimal: str | None = None,
) -> dict[str, Any]:
    """Detect encoding, delimiter, decimal mark and a Qualtrics header from the first 64 KB.

    Returns
    -------
    dict
        ``encoding``, ``delimiter``, ``decimal``, ``qualtrics`` (bool), ``rows`` (the first
        parsed rows of the sample).  Given arguments are returned unchanged.
    """
    path = Path(path)
    with path.open("rb") as fh:
        sample = fh.read(_SAMPLE_BYTES)
    if not sample.strip():
        raise ReadError("the file is empty (only white space)", file=str(path),
                        hint="export the survey again")
    enc = encoding or _detect_encoding(path, sample)
    try:
        text = codecs.getincrementaldecoder(enc)(errors="strict").decode(sample, final=False)
    except LookupError as exc:
        raise ReadError(f"unknown encoding {enc!r}", file=str(path),
                        hint="use e.g. 'utf-8', 'utf-8-sig' or 'cp1252'") from exc
    except UnicodeDecodeError:
        raise _undecodable(path, enc, (enc,)) from None
    if len(sample) == _SAMPLE_BYTES:
        text = _complete_records(text)
    text = text.removeprefix("\ufeff")
    if sep is None:
        is_tsv = path.suffix.lower() == ".tsv" and "\t" in text
        sep = "\t" if is_tsv else _detect_delimiter(text)
    rows = _parse_rows(text, sep)
    qualtrics = _is_qualtrics(rows)
    data_rows = rows[2:] if qualtrics else rows
    if decimal is None:
        decimal = _detect_decimal(data_rows, sep)
    return {"encoding": enc, "delimiter": sep, "decimal": decimal, "qualtrics": qualtrics,
            "rows": rows}


# --------------------------------------------------------------------------- readers
def _text_columns(rows: Sequence[Sequence[str]], skip: int) -> list[str]:
    """Columns whose sample values are digit strings with a leading zero (keep as text)."""
    if not rows:
        return []
    header = rows[0]
    keep: list[str] = []
    for j, name in enumerate(header):
        values = [r[j] for r in rows[1 + skip :] if j < len(r) and r[j].strip()]
        if any(_LEADING_ZERO.match(v.strip()) for v in values):
            keep.append(name)
    return keep


def _read_text(
    path: Path,
    encoding: str | None,
    sep: str | None,
    decimal: str | None,
    text_columns: Sequence[str] | None,
) -> pd.DataFrame:
    sniff = sniff_text(path, encoding=encoding, sep=sep, decimal=decimal)
    enc, delim, dec = sniff["encoding"], sniff["delimiter"], sniff["decimal"]
    qualtrics: bool = sniff["qualtrics"]
    rows: list[list[str]] = sniff["rows"]
    if delim == dec:
        raise ReadError(f"delimiter and decimal mark are both {delim!r}", file=str(path),
                        hint="pass sep= and decimal= explicitly")
    if rows:
        _check_header(path, rows[0], line=1)
    skip = 2 if qualtrics else 0
    as_text = list(dict.fromkeys([*_text_columns(rows, skip), *(text_columns or [])]))
    dtype: dict[str, str] | None = dict.fromkeys(as_text, "str") if as_text else None

    def _read(enc_used: str) -> pd.DataFrame:
        # low_memory (the default) parses in chunks: a column holding numbers and labels may
        # come back as object with both ints/floats and strings, which is "as read"; the
        # DtypeWarning about it is expected here and silenced.  low_memory=False would make
        # such columns all-text but costs about a third more time on large files.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", pd.errors.DtypeWarning)
            return pd.read_csv(
                path, sep=delim, decimal=dec, encoding=enc_used, engine="c",
                skiprows=[1, 2] if qualtrics else None, dtype=dtype,
                encoding_errors="strict",
            )

    tried = [enc]
    try:
        try:
            df = _read(enc)
        except UnicodeDecodeError:
            if encoding is not None or enc != "utf-8":
                raise
            # The sample was valid UTF-8 but a later part is not: most likely cp1252.
            enc = "cp1252"
            tried.append(enc)
            df = _read(enc)
    except UnicodeDecodeError:
        raise _undecodable(path, enc, tried) from None
    except pd.errors.EmptyDataError as exc:
        raise ReadError("the file holds no columns", file=str(path),
                        hint="export the survey again with a header row") from exc
    except pd.errors.ParserError as exc:
        match = _LINE_IN_MESSAGE.search(str(exc))
        line = int(match.group(1)) if match else None
        detail = str(exc).split("C error: ")[-1].strip()
        unclosed = re.search(r"EOF inside string starting at row (\d+)", detail)
        if unclosed:  # pandas counts rows from 0, header included: line = row + 1
            raise ReadError(
                "a quoted field is never closed: the file ends inside it", file=str(path),
                context={"line": int(unclosed.group(1)) + 1},
                hint="close the quote (\") that opens on that line, or remove it",
            ) from exc
        raise ReadError(
            f"ragged line: {detail}", file=str(path),
            context={"line": line} if line is not None else {},
            hint=f"every line needs the same number of {_name_delim(delim)}-separated fields; "
                 "check for an unquoted separator in a text answer",
        ) from exc
    except (ValueError, OSError) as exc:
        raise ReadError(f"cannot read the file: {exc}", file=str(path),
                        hint="check that the file is readable and a complete export; pass "
                             "sep=, decimal= and encoding= when the detected ones are wrong "
                             f"(detected: sep={delim!r}, decimal={dec!r}, "
                             f"encoding={enc!r})") from exc

    df, dropped = _drop_empty_unnamed(df)
    question_texts: dict[str, str] = {}
    import_ids: dict[str, str] = {}
    if qualtrics:
        question_texts, import_ids = _qualtrics_meta(rows)
    df.attrs.update({
        "format": "csv",
        "encoding": enc,
        "delimiter": delim,
        "decimal": dec,
        "row_offset": 4 if qualtrics else 2,
        "qualtrics": qualtrics,
        "question_texts": question_texts,
        "import_ids": import_ids,
        "dropped_columns": dropped,
    })
    return df


def _name_delim(delim: str) -> str:
    return {";": "semicolon", ",": "comma", "\t": "tab", "|": "pipe"}.get(delim, repr(delim))


def _read_excel(path: Path, sheet: str | int | None) -> pd.DataFrame:
    import openpyxl  # imported here: only needed for Excel

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for damaged files
        raise ReadError(f"cannot open the Excel file: {exc}", file=str(path),
                        hint="open it in Excel and save it again as .xlsx") from exc
    try:
        names = list(book.sheetnames)
        if sheet is None:
            chosen = names[0]
        elif isinstance(sheet, int) and not isinstance(sheet, bool):
            if not 0 <= sheet < len(names):
                raise ReadError(f"sheet number {sheet} does not exist", file=str(path),
                                hint=f"sheets (from 0): {', '.join(names)}")
            chosen = names[sheet]
        elif sheet in names:
            chosen = str(sheet)
        else:
            raise ReadError(f"sheet {sheet!r} not found", file=str(path),
                            hint=f"sheets in this file: {', '.join(names)}")
        ws = book[chosen]
        values = list(ws.iter_rows(values_only=True))
    finally:
        book.close()
    while values and all(v is None or (isinstance(v, str) and not v.strip()) for v in values[-1]):
        values.pop()
    if not values:
        raise ReadError(f"sheet {chosen!r} is empty", file=str(path),
                        hint="choose the sheet with the responses (sheet=...)")
    header = ["" if v is None else str(v).strip() for v in values[0]]
    _check_header(path, header, line=1)
    columns = [h if h else f"Unnamed: {j}" for j, h in enumerate(header)]
    width = len(columns)
    body = [tuple(row[:width]) + (None,) * (width - len(row)) for row in values[1:]]
    df = pd.DataFrame.from_records(body, columns=columns)
    df = df.infer_objects()
    df, dropped = _drop_empty_unnamed(df)
    df.attrs.update({
        "format": "xlsx",
        "encoding": None,
        "delimiter": None,
        "decimal": None,
        "row_offset": 2,
        "sheet": chosen,
        "sheets": names,
        "qualtrics": False,
        "question_texts": {},
        "dropped_columns": dropped,
    })
    return df


def _code_key(code: Any) -> Any:
    if isinstance(code, float) and code.is_integer():
        return int(code)
    return code


def _read_sav(path: Path, encoding: str | None) -> pd.DataFrame:
    import pyreadstat  # imported here: only needed for SPSS

    try:
        df, meta = pyreadstat.read_sav(str(path), apply_value_formats=False,
                                       encoding=encoding, user_missing=False)
    except Exception as exc:  # pyreadstat raises its own ReadstatError and others
        raise ReadError(f"cannot read the SPSS file: {exc}", file=str(path),
                        hint="save it again from SPSS as .sav") from exc
    value_labels = {
        str(col): {_code_key(code): str(label) for code, label in labels.items()}
        for col, labels in (meta.variable_value_labels or {}).items()
    }
    question_texts = {
        str(col): str(label)
        for col, label in (meta.column_names_to_labels or {}).items()
        if label
    }
    df.attrs.update({
        "format": "sav",
        "encoding": getattr(meta, "file_encoding", None),
        "delimiter": None,
        "decimal": None,
        "row_offset": None,
        "qualtrics": False,
        "question_texts": question_texts,
        "value_labels": value_labels,
        "dropped_columns": [],
    })
    return df


def _check_option_types(path: Path, given: Mapping[str, Any]) -> None:
    """Refuse read options of the wrong type (``sep=';;'``, ``text_columns='id'``...)."""
    checks = {
        "sep": (lambda v: isinstance(v, str) and len(v) == 1, "one character", "sep=';'"),
        "decimal": (lambda v: v in (".", ","), "'.' or ','", "decimal=','"),
        "encoding": (lambda v: isinstance(v, str) and bool(v), "an encoding name",
                     "encoding='cp1252'"),
        "sheet": (lambda v: isinstance(v, str | int) and not isinstance(v, bool),
                  "a sheet name or a 0-based sheet number", "sheet='Resultaten'"),
        "text_columns": (lambda v: isinstance(v, list | tuple) and all(
            isinstance(c, str) for c in v), "a list of column names",
            "text_columns=['Studentnummer']"),
    }
    for option, (ok, expected, example) in checks.items():
        value = given.get(option)
        if value is not None and not ok(value):
            raise ReadError(f"{option}={value!r} is not valid: it must be {expected}",
                            file=str(path), context={"option": option},
                            hint=f"write e.g. {example}")


def read_survey(
    path: str | Path,
    *,
    sheet: str | int | None = None,
    encoding: str | None = None,
    sep: str | None = None,
    decimal: str | None = None,
    text_columns: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Read a survey export into a DataFrame, with provenance in ``df.attrs``.

    Parameters
    ----------
    path
        A ``.csv``, ``.tsv``, ``.txt``, ``.xlsx``/``.xlsm`` or ``.sav``/``.zsav`` file.
    sheet
        Excel sheet name or 0-based number (default: the first sheet).
    encoding
        Text encoding of a CSV file; default: detected (BOM, else UTF-8, else cp1252).  For
        ``.sav`` files, overrides the encoding stored in the file.
    sep
        Field separator of a CSV file; default: detected from the first 64 KB among
        ``;``, ``,``, tab and ``|``.
    decimal
        Decimal mark of a CSV file; default: ``","`` when the sample's numbers use a decimal
        comma (only possible when the separator is not a comma), else ``"."``.
    text_columns
        CSV columns to keep as text (e.g. student numbers).  Columns whose sample holds a
        number with a leading zero (``0123456``) are kept as text automatically.

    Returns
    -------
    pandas.DataFrame
        Columns as the file holds them: numbers stay numbers, text (labels such as
        ``"Mee eens"``, ``"4,0"`` in a column with labels) stays text; nothing is recoded.
        In a large CSV file (parsed in chunks) a column with both numbers and labels may hold
        Python numbers and strings side by side (dtype object).
        Qualtrics' second and third header rows are dropped and kept in
        ``attrs["question_texts"]`` and ``attrs["import_ids"]``.  SPSS value labels are *not*
        applied: codes stay numeric and the labels are in ``attrs["value_labels"]``
        (column -> {code: label}), so that the codes the analysis uses are the codes in the
        file.  Provenance keys are listed in the module docstring.

    Raises
    ------
    ReadError
        Missing, empty or undecodable file (the message gives the byte offset and line), an
        unknown extension, an unreadable xlsx/sav file, a missing sheet, a ragged CSV line
        (the message names the line), duplicate column names, or an option that does not
        apply to the file's type (``sheet`` on a CSV or SPSS file; ``sep``, ``decimal``
        or ``text_columns`` on an Excel or SPSS file; ``encoding`` on an Excel file; see
        :data:`READ_OPTIONS`): such an option would be ignored, which hides a mistake.

    Notes
    -----
    CSV files are sniffed from their first 64 KB and then read by a single
    :func:`pandas.read_csv` call (C engine), so reading costs about as much as
    ``read_csv`` itself; the SHA-256 of the file is computed in a thread meanwhile.  A CSV line with *too few* fields is
    padded with missing values by pandas and not reported.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "w.csv").write_text("Studentnummer;Vraag 1;Duur (sec)\\n0123456;4;12,5\\n",
    ...                                   encoding="utf-8-sig")
    >>> df = read_survey(folder / "w.csv")
    >>> df.loc[0, "Studentnummer"], df.loc[0, "Duur (sec)"], df.attrs["delimiter"]
    ('0123456', np.float64(12.5), ';')
    """
    path = Path(path)
    ext = _check_file(path)
    given = {"sheet": sheet, "encoding": encoding, "sep": sep, "decimal": decimal,
             "text_columns": text_columns}
    for option, value in given.items():
        if value is not None and ext not in READ_OPTIONS[option]:
            raise ReadError(
                f"{option}={value!r} does not apply to {_KIND[ext]} file ({ext}): "
                f"{_WHY_NOT[option]}", file=str(path), context={"option": option},
                hint=f"leave out {option}= for this file (it applies to "
                     f"{', '.join(READ_OPTIONS[option])} files)",
            )
    _check_option_types(path, given)
    hasher = _Sha256Thread(path)
    hasher.start()
    try:
        if ext in _TEXT_EXT:
            df = _read_text(path, encoding, sep, decimal, text_columns)
        elif ext in _EXCEL_EXT:
            df = _read_excel(path, sheet)
        else:
            df = _read_sav(path, encoding)
    finally:
        hasher.join()
    if len(df) == 0:
        raise ReadError("the file has a header but no data rows", file=str(path),
                        hint="check that the export holds responses")
    df.attrs["file"] = str(path)
    df.attrs["sha256"] = hasher.digest or file_sha256(path)
    df.attrs["n_rows"] = len(df)
    return df
