"""Word-ready APA 7 tables (python-docx).

Layout follows APA 7 (section 7.8-7.21): the table number in bold on its own line, the
title in italic title case below it, horizontal rules only (above the header, below the
header, below the last row; no vertical lines), and the general note below the table
starting with an italic "Noot." / "Note.".  Statistical symbols in headers are italic,
subscripts are subscript.  The header row is marked as a repeating header row, which is
also how screen readers in Word find the column headers.

Nothing here touches disk except :func:`write_apa_docx` (and ``target=path``), which
writes through :func:`ipo_research.io.writers.atomic_write_bytes`: atomic, and refused
inside ``data/raw``.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import docx
from docx.document import Document as DocxDocument
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn

from ipo_research.errors import PresentationError
from ipo_research.present.labels import text

if TYPE_CHECKING:  # pragma: no cover
    from docx.table import Table, _Cell

    from ipo_research.present.apa import ApaTable

__all__ = ["add_apa_table", "apa_docx_bytes", "table_to_docx", "write_apa_docx"]

_RULE_THICK = "8"  # eighths of a point: 1 pt
_RULE_THIN = "4"  # 0.5 pt


def _border(tag: str, val: str, size: str = _RULE_THIN) -> Any:
    el = OxmlElement(f"w:{tag}")
    el.set(qn("w:val"), val)
    if val != "nil":
        el.set(qn("w:sz"), size)
        el.set(qn("w:space"), "0")
        el.set(qn("w:color"), "000000")
    return el


def _table_borders(table: Table) -> None:
    """Rules above and below the table, none inside or at the sides."""
    tbl_pr = table._tbl.tblPr
    for old in tbl_pr.findall(qn("w:tblBorders")):
        tbl_pr.remove(old)
    borders = OxmlElement("w:tblBorders")
    borders.append(_border("top", "single", _RULE_THICK))
    borders.append(_border("left", "nil"))
    borders.append(_border("bottom", "single", _RULE_THICK))
    borders.append(_border("right", "nil"))
    borders.append(_border("insideH", "nil"))
    borders.append(_border("insideV", "nil"))
    tbl_pr.append(borders)


def _cell_bottom_rule(cell: _Cell) -> None:
    tc_pr = cell._tc.get_or_add_tcPr()
    borders = OxmlElement("w:tcBorders")
    borders.append(_border("bottom", "single", _RULE_THIN))
    tc_pr.append(borders)


def _mark_header_row(table: Table) -> None:
    tr_pr = table.rows[0]._tr.get_or_add_trPr()
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    tr_pr.append(header)


def add_apa_table(document: DocxDocument, table: ApaTable) -> None:
    """Append ``table`` (number, title, table, note) to a python-docx ``Document``.

    Parameters
    ----------
    document
        An open python-docx document.
    table
        The table from :func:`~ipo_research.present.apa.apa_table`.
    """
    if table.label:
        number = document.add_paragraph()
        number.add_run(table.label).bold = True
        number.paragraph_format.keep_with_next = True
    title = document.add_paragraph()
    title.add_run(table.title).italic = True
    title.paragraph_format.keep_with_next = True

    frame = table.frame
    n_rows, n_cols = frame.shape
    word = document.add_table(rows=n_rows + 1, cols=max(n_cols, 1))
    _table_borders(word)
    _mark_header_row(word)
    for j, runs in enumerate(table.header_runs()):
        cell = word.cell(0, j)
        paragraph = cell.paragraphs[0]
        paragraph.alignment = (
            WD_ALIGN_PARAGRAPH.LEFT if (j == 0 and table.row_header) else WD_ALIGN_PARAGRAPH.CENTER
        )
        for piece, style in runs:
            run = paragraph.add_run(piece)
            run.italic = style == "i"
            run.font.subscript = style == "sub"
        _cell_bottom_rule(cell)
    for i, row in enumerate(frame.itertuples(index=False), start=1):
        for j, value in enumerate(row):
            paragraph = word.cell(i, j).paragraphs[0]
            paragraph.alignment = (
                WD_ALIGN_PARAGRAPH.LEFT
                if (j == 0 and table.row_header)
                else WD_ALIGN_PARAGRAPH.CENTER
            )
            paragraph.add_run(str(value))
    if table.note:
        note = document.add_paragraph()
        note.add_run(text("note", table.lang)).italic = True
        note.add_run(" " + table.note)


def apa_docx_bytes(tables: Iterable[ApaTable]) -> bytes:
    """Return a new ``.docx`` document holding ``tables``, as bytes (nothing is written)."""
    document = docx.Document()
    for k, table in enumerate(tables):
        if k:
            document.add_paragraph()
        add_apa_table(document, table)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def write_apa_docx(tables: Iterable[ApaTable], path: str | Path) -> Path:
    """Write ``tables`` to a new ``.docx`` file at ``path``, atomically; return the path.

    Raises
    ------
    PresentationError
        If ``path`` does not end in ``.docx``.
    WriteError
        If the write is refused (``data/raw``) or fails; an older file stays intact.
    """
    from ipo_research.io.writers import atomic_write_bytes

    target = Path(path)
    if target.suffix.lower() != ".docx":
        raise PresentationError(
            f"a Word file must end in .docx, got {target.name!r}",
            file=str(target),
            hint="use a path like reports/tabellen.docx",
        )
    return atomic_write_bytes(target, apa_docx_bytes(tables))


def table_to_docx(table: ApaTable, target: DocxDocument | str | Path | None = None) -> Any:
    """Render one table to Word (the engine behind :meth:`ApaTable.to_docx`).

    Parameters
    ----------
    table
        The table.
    target
        ``None``: return the ``.docx`` bytes; a python-docx ``Document``: append and
        return it; a path: write atomically and return the path.
    """
    if target is None:
        return apa_docx_bytes([table])
    if isinstance(target, DocxDocument):
        add_apa_table(target, table)
        return target
    if isinstance(target, str | Path):
        return write_apa_docx([table], target)
    raise PresentationError(
        f"cannot write a table to a {type(target).__name__}",
        context={"parameter": "target"},
        hint="pass None (bytes), a python-docx Document or a .docx path",
    )
