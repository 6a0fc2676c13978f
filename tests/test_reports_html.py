"""Published pages: sanitising, self-containment, error pages and the index."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from ipo_research.errors import ReportError
from ipo_research.reports.cache import atomic_write
from ipo_research.reports.html import (
    IndexEntry,
    document,
    error_page,
    export_html,
    external_references,
    index_page,
    page_css,
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
        IndexEntry("en/ripls.html", "Instrument report RIPLS", "Instrumenten", lang="en"),
        IndexEntry("instrument/iccas.html", "ICCAS", "Instrumenten", lang="nl"),
    ], title="Kennisplatform", lang="nl")
    assert page.count("<h2>") == 2 and "<p class=\"muted\">5 rapporten</p>" in page
    # a page in another language than the index says so (WCAG 3.1.2), same-language ones do not
    assert '<a href="en/ripls.html" lang="en" hreflang="en">Instrument report RIPLS</a>' in page
    assert '<a href="instrument/iccas.html">ICCAS</a>' in page
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


def report_notebook() -> nbformat.NotebookNode:
    """A report as the notebooks write it: page_style, heading, an APA table, a record."""
    from ipo_research.present.apa import apa_css
    from ipo_research.present.report import RECORD_MIME

    figure = f'<figure class="ipo-figure"><img src="data:image/png;base64,{PNG}" alt="Punten">' \
             "<figcaption>Figuur 1</figcaption></figure>"
    table = ('<table class="apa-table"><caption><span class="apa-table-number">Tabel 1</span>'
             '<br/><span class="apa-table-title">Respons &amp; uitval</span></caption>'
             "<tbody><tr><th scope=\"row\">mbo</th><td>12</td></tr></tbody></table>")
    frame = '<table class="dataframe"><tr><td>1</td></tr></table>'
    outputs = [new_output("display_data", data={"text/html": markup, "text/plain": "<HTML>"})
               for markup in (f"<style>{apa_css()}</style>", "<h1>Leerteam ZW-1</h1>",
                              table, figure, frame)]
    outputs.append(new_output("display_data", data={"text/html": "", RECORD_MIME: {"n": 12}}))
    nb = new_notebook(cells=[new_code_cell("report()", outputs=outputs),
                             new_markdown_cell("## Toelichting\n\nTekst.")])
    return nb


def test_page_is_lean_html5_with_one_stylesheet_and_main() -> None:
    page = export_html(report_notebook(), title="Leerteam ZW-1", lang="nl")
    head, body = page.split("<body>")
    assert '<meta charset="utf-8">' in head and 'name="viewport"' in head
    assert page.count("<style") == 1 and page.count("table.apa-table {") == 1
    assert "max-width: 60rem" in head and "@media print" in head
    assert body.count("<main>") == 1 and body.count("</main>") == 1
    assert body.count("<h1") == 1
    assert "--jp-" not in head and "anchor-link" not in body and "\u00b6" not in body
    assert "ipo-research.record" not in page
    assert '<div class="output_html rendered_html output_subarea"></div>' not in page
    without_images = len(re.sub(r"data:image/[^\"']+", "", page).encode())
    assert without_images < 150_000, without_images
    assert without_images < 20_000  # the lab template's CSS alone was ~250 KB


def test_tables_sit_in_a_labelled_focusable_scroll_region() -> None:
    page = export_html(report_notebook(), title="x", lang="nl")
    regions = re.findall(r'<div class="table-scroll" role="region" aria-label="([^"]*)" '
                         r'tabindex="0"><table', page)
    assert regions == ["Tabel 1 Respons &amp; uitval", "Tabel 2"]
    assert page.count("<table") == 2
    assert 'alt="Punten"' in page and f'src="data:image/png;base64,{PNG}"' in page
    english = export_html(report_notebook(), title="x", lang="en")
    assert 'aria-label="Table 2"' in english


def test_markdown_headings_have_no_pilcrow_links() -> None:
    page = export_html(report_notebook(), title="x")
    assert re.search(r'<h2 id="Toelichting">Toelichting</h2>', page)


def test_document_escapes_title_and_lang_and_pages_share_the_shell() -> None:
    page = document("<p>ok</p>", title="A <b> & C", lang='nl"')
    assert "<title>A &lt;b&gt; &amp; C</title>" in page and '<html lang="nl&quot;">' in page
    assert page_css() in page
    for other in (error_page(title="t", report_id="t", error_name="E", cell=1),
                  index_page([], title="t")):
        assert page_css() in other and other.count("<main>") == 1
