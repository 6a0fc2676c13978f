"""Published pages: sanitising, self-containment, error pages and the index."""

from __future__ import annotations

import base64
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from ipo_research.errors import ReportError
from ipo_research.reports.cache import atomic_write
from ipo_research.reports.html import (
    IndexEntry,
    error_page,
    export_html,
    external_references,
    index_page,
    sanitise,
)

# a 1x1 PNG
PNG = base64.b64encode(bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")).decode()


def executed_notebook() -> nbformat.NotebookNode:
    """A notebook as papermill leaves it: parameters, injected parameters, outputs."""
    nb = new_notebook(cells=[
        new_markdown_cell("# Resultaten\n\nDe groei per team."),
        new_code_cell('region = "Zwolle"', metadata={"tags": ["parameters"]}),
        new_code_cell('region = "Deventer"\nkey_file = "/home/lector/key"',
                      metadata={"tags": ["injected-parameters"]}),
        new_code_cell("plot()", execution_count=3, outputs=[
            new_output("stream", name="stdout", text="N=12\n"),
            new_output("stream", name="stderr", text="/usr/lib/python3/x.py: FutureWarning\n"),
            new_output("display_data", data={"image/png": PNG, "text/plain": "<Figure>"}),
        ]),
    ])
    nb.metadata.papermill = {"parameters": {"region": "Deventer"},
                             "input_path": "/work/notebooks/x.ipynb"}
    nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    for i, cell in enumerate(nb.cells):
        cell.id = f"c{i}"
        cell.metadata.setdefault("papermill", {"duration": 0.1})
    return nb


def test_sanitise_drops_parameters_metadata_and_stderr() -> None:
    clean = sanitise(executed_notebook(), title="Rapport")
    assert [c.cell_type for c in clean.cells] == ["markdown", "code"]
    assert dict(clean.metadata) == {"title": "Rapport", "language_info": {"name": "python"}}
    assert all(dict(c.metadata) == {} for c in clean.cells)
    assert [o.get("name") for o in clean.cells[1].outputs] == ["stdout", None]
    assert clean.cells[1].execution_count is None


def test_export_is_self_contained_without_code_or_paths() -> None:
    page = export_html(executed_notebook(), title="Leerteam ZW-2223-07", lang="nl")
    assert page.startswith("<!DOCTYPE html>")
    assert '<html lang="nl">' in page and "<title>Leerteam ZW-2223-07</title>" in page
    assert f'src="data:image/png;base64,{PNG}' in page
    assert external_references(page) == []
    assert "<script" not in page.replace('<script type="text/javascript">', "")
    for hidden in ("Deventer", "key_file", "/home/lector", "FutureWarning", "papermill",
                   "plot()", "/work/notebooks"):
        assert hidden not in page
    assert "N=12" in page and "De groei per team." in page
    assert '<html lang="en">' in export_html(executed_notebook(), title="x", lang="en")


def test_export_refuses_outputs_that_load_external_resources() -> None:
    nb = executed_notebook()
    nb.cells[3].outputs.append(new_output("display_data", data={
        "text/html": '<script src="https://cdn.example.org/plotly.js"></script>'}))
    with pytest.raises(ReportError, match=r"would load 1 external resource\(s\), e.g. "
                       r"'https://cdn.example.org/plotly.js'"):
        export_html(nb, title="x")


@pytest.mark.parametrize(("snippet", "found"), [
    ('<link rel="stylesheet" href="https://x.org/a.css">', ["https://x.org/a.css"]),
    ("<style>@import url('//fonts.example/f.css');</style>", ["//fonts.example/f.css"]),
    ('<div style="background: url(https://x.org/b.png)">', ["https://x.org/b.png"]),
    ('<img src="logo.png">', ["logo.png"]),
    ('<a href="https://www.landstede.nl">Landstede</a>', []),
    ('<img src="data:image/svg+xml;base64,AAA=">', []),
])
def test_external_references(snippet: str, found: list[str]) -> None:
    assert external_references(snippet) == found


def test_error_page_names_the_error_but_no_details() -> None:
    page = error_page(title="Leerteam <ZW>", report_id="leerteam/zw", error_name="KeyError",
                      cell=5, lang="nl")
    assert '<html lang="nl">' in page and "<title>Leerteam &lt;ZW&gt;</title>" in page
    assert "(KeyError) in cel 5 van het sjabloon" in page
    assert "rapport-id leerteam/zw" in page
    en = error_page(title="T", report_id="t", error_name="DeadKernelError", cell=None,
                    lang="en")
    assert "An error occurred (DeadKernelError) while building the report." in en
    assert external_references(page) == []


def test_index_groups_reports_and_marks_failures() -> None:
    page = index_page([
        IndexEntry("leerteam/zw-1.html", "Leerteam ZW-1", "Leerteams"),
        IndexEntry("leerteam/zw-2.html", "Leerteam ZW-2", "Leerteams", ok=False),
        IndexEntry("instrument/ripls.html", "RIPLS & ICCAS", "Instrumenten"),
    ], title="Kennisplatform", lang="nl")
    assert page.count("<h2>") == 2 and "<p class=\"muted\">3 rapporten</p>" in page
    assert '<a href="leerteam/zw-2.html">Leerteam ZW-2</a> <span class="muted">' \
           '(niet beschikbaar)</span>' in page
    assert "RIPLS &amp; ICCAS" in page
    assert '<nav aria-label="Overzicht van alle rapporten">' in page


def test_atomic_write_replaces_whole_files(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "page.html"
    atomic_write(target, "<p>één</p>")
    atomic_write(target, "<p>twee</p>")
    assert target.read_text(encoding="utf-8") == "<p>twee</p>"
    assert [p.name for p in target.parent.iterdir()] == ["page.html"]
    with pytest.raises(ReportError, match=r"cannot write page.html"):
        atomic_write(target / "page.html", "x")  # a file used as a folder
