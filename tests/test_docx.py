"""Word output of APA tables (ipo_research.present.docx)."""

from __future__ import annotations

import io
from pathlib import Path

import docx
import pandas as pd
import pytest
from docx.oxml.ns import qn

from ipo_research.errors import PresentationError, WriteError
from ipo_research.present.apa import ApaTable, apa_table
from ipo_research.present.docx import add_apa_table, apa_docx_bytes, write_apa_docx


@pytest.fixture
def table() -> ApaTable:
    result = pd.DataFrame(
        {
            "n": [48, 52],
            "mean_pre": [3.2104, 3.05],
            "mean_post": [3.6588, 3.41],
            "mean_diff": [0.4484, 0.36],
            "diff_ci_low": [0.2871, 0.2],
            "diff_ci_high": [0.6097, 0.52],
            "t": [5.5912, 4.4],
            "df": [47.0, 51.0],
            "p": [1.1e-6, 0.00005],
            "d_z": [0.8071, 0.61],
            "d_z_ci_low": [0.4813, 0.31],
            "d_z_ci_high": [1.1259, 0.9],
        },
        index=pd.Index(["mbo", "hbo"], name="niveau"),
    )
    return apa_table(result, "nl", number=4)


def _cell_texts(word_table: docx.table.Table) -> list[list[str]]:
    return [[cell.text for cell in row.cells] for row in word_table.rows]


def test_docx_bytes_open_and_hold_the_table(table: ApaTable) -> None:
    assert table.kind == "paired_change"  # detected without the Wilcoxon columns
    data = table.to_docx()
    assert isinstance(data, bytes)
    document = docx.Document(io.BytesIO(data))
    assert len(document.tables) == 1
    cells = _cell_texts(document.tables[0])
    assert cells[0] == ["".join(piece for piece, _ in runs) for runs in table.header_runs()]
    assert cells[0][:3] == ["Niveau", "n", "Mvoor"]  # subscript run: "M" + "voor"
    assert cells[1] == table.frame.iloc[0].tolist()
    assert cells[2] == table.frame.iloc[1].tolist()
    assert cells[1][8] == "< ,001"
    paragraphs = document.paragraphs
    number, title = paragraphs[0], paragraphs[1]
    assert number.text == "Tabel 4" and number.runs[0].bold
    assert title.text == table.title and title.runs[0].italic
    note = paragraphs[-1]
    assert note.runs[0].text == "Noot." and note.runs[0].italic
    assert table.note is not None and note.text.endswith(table.note)


def test_docx_apa_rules_and_header_markup(table: ApaTable) -> None:
    document = docx.Document(io.BytesIO(table.to_docx()))
    word = document.tables[0]
    borders = word._tbl.tblPr.find(qn("w:tblBorders"))
    values = {child.tag.split("}")[1]: child.get(qn("w:val")) for child in borders}
    assert values == {
        "top": "single",
        "left": "nil",
        "bottom": "single",
        "right": "nil",
        "insideH": "nil",
        "insideV": "nil",
    }
    header = word.rows[0]
    assert header._tr.trPr.find(qn("w:tblHeader")) is not None
    for cell in header.cells:
        bottom = cell._tc.tcPr.find(qn("w:tcBorders")).find(qn("w:bottom"))
        assert bottom.get(qn("w:val")) == "single"
    # body cells carry no borders of their own (no vertical lines anywhere)
    assert (
        word.rows[1].cells[1]._tc.tcPr is None
        or word.rows[1].cells[1]._tc.tcPr.find(qn("w:tcBorders")) is None
    )
    # "M_voor": italic M, subscript "voor"
    runs = header.cells[2].paragraphs[0].runs
    assert [(r.text, bool(r.italic), bool(r.font.subscript)) for r in runs] == [
        ("M", True, False),
        ("voor", False, True),
    ]


def test_append_to_existing_document_and_several_tables(table: ApaTable) -> None:
    document = docx.Document()
    document.add_heading("Rapport", level=1)
    returned = table.to_docx(document)
    assert returned is document
    add_apa_table(document, table)
    assert len(document.tables) == 2
    data = apa_docx_bytes([table, table, table])
    assert len(docx.Document(io.BytesIO(data)).tables) == 3


def test_write_to_path_is_atomic_and_refuses_raw(table: ApaTable, tmp_path: Path) -> None:
    target = tmp_path / "out" / "tabellen.docx"
    written = table.to_docx(target)
    assert Path(written) == target
    assert len(docx.Document(str(target)).tables) == 1
    assert [p.name for p in target.parent.iterdir()] == ["tabellen.docx"]  # no temp files
    write_apa_docx([table, table], target)  # overwrite
    assert len(docx.Document(str(target)).tables) == 2
    with pytest.raises(WriteError, match=r"data/raw"):
        table.to_docx(tmp_path / "data" / "raw" / "t.docx")
    with pytest.raises(
        PresentationError, match=r"a Word file must end in \.docx, got 'tabel\.pdf'"
    ):
        table.to_docx(tmp_path / "tabel.pdf")
    with pytest.raises(PresentationError, match=r"cannot write a table to a int"):
        table.to_docx(3)  # type: ignore[arg-type]


def test_unnumbered_table_without_note() -> None:
    tab = apa_table(pd.DataFrame({"score": [1.5]}), "en", title="Scores")
    assert tab.note is None
    document = docx.Document(io.BytesIO(tab.to_docx()))
    assert [p.text for p in document.paragraphs] == ["Scores"]
    assert _cell_texts(document.tables[0]) == [["score"], ["1.50"]]
