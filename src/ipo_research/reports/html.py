"""Self-contained HTML pages: report pages, error pages and the index.

Report pages come from nbconvert's ``lab`` template with a small override
(:data:`REPORT_TEMPLATE`) that drops every external resource the lab template pulls in
(require.js, MathJax and mermaid from a CDN, the widget manager) and adds print-friendly
styling.  Before export the notebook is sanitised (:func:`sanitise`): the ``parameters``
and ``injected-parameters`` cells are removed, all notebook and cell metadata (papermill
parameters, input/output paths, timings) is dropped, and stderr streams and error
outputs, which can show file paths, stay in the audit notebook only.  Code is hidden
(``exclude_input``); figures are embedded as data URIs.  :func:`external_references` is
the guard that every page passes before it is published.
"""

from __future__ import annotations

import copy
import html
import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ipo_research.errors import ReportError

__all__ = [
    "REPORT_TEMPLATE",
    "IndexEntry",
    "error_page",
    "export_html",
    "external_references",
    "index_page",
    "sanitise",
]

#: Cell tags whose cells never reach a published page.
HIDDEN_TAGS = frozenset({"parameters", "injected-parameters", "remove-cell", "remove_cell",
                         "papermill-error-cell-tag"})

_STYLE = """
body { max-width: 60rem; margin: 0 auto; padding: 1rem 1.5rem 3rem; }
.jp-Notebook { font-size: 1rem; line-height: 1.5; }
.jp-RenderedHTMLCommon table { margin: 0.5rem 0 1rem; }
img { max-width: 100%; height: auto; }
@media print { body { max-width: none; padding: 0; } }
"""

#: nbconvert template: the lab page without CDN scripts (require.js, MathJax, mermaid,
#: widgets) and with a readable column width.
REPORT_TEMPLATE = (
    "{%- extends 'lab/index.html.j2' -%}\n"
    "{%- block html_head_js -%}{%- endblock html_head_js -%}\n"
    "{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}\n"
    "{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}\n"
    "{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}\n"
    "{%- block html_head_css -%}<style type=\"text/css\">" + _STYLE + "</style>"
    "{%- endblock html_head_css -%}\n"
)

_EXTERNAL = re.compile(
    r"""<script\b[^>]*\bsrc\s*=\s*["']?(?P<script>[^"'\s>]+)"""
    r"""|<link\b[^>]*\bhref\s*=\s*["']?(?P<link>[^"'\s>]+)"""
    r"""|<(?:img|iframe|embed|source|video|audio)\b[^>]*\bsrc\s*=\s*["']?(?P<media>(?!data:)[^"'\s>]+)"""
    r"""|@import\s+(?:url\()?["']?(?P<import>[^"')\s;]+)"""
    r"""|url\(\s*["']?(?P<url>(?:https?:)?//[^"')\s]+)""",
    re.IGNORECASE,
)
_local = threading.local()


def external_references(page: str) -> list[str]:
    """Return the external resources a page would load (scripts, styles, images...).

    Links (``<a href>``) are not resources and are allowed.

    Examples
    --------
    >>> external_references('<script src="https://cdn.example/x.js"></script>')
    ['https://cdn.example/x.js']
    >>> external_references('<img src="data:image/png;base64,AAAA">')
    []
    """
    return [next(v for v in m.groupdict().values() if v) for m in _EXTERNAL.finditer(page)]


def sanitise(nb: Any, *, title: str) -> Any:
    """Return a copy of an executed notebook that is fit to publish.

    Removes cells tagged in :data:`HIDDEN_TAGS`, every notebook and cell metadata field
    except the title, execution counts, stderr streams and error outputs.
    """
    clean = copy.deepcopy(nb)
    language = nb.metadata.get("language_info", {}).get("name", "python")
    clean.metadata = type(nb.metadata)(title=title, language_info={"name": language})
    cells = []
    for cell in clean.cells:
        if HIDDEN_TAGS.intersection(cell.get("metadata", {}).get("tags", [])):
            continue
        cell.metadata = type(cell.metadata)()
        if cell.cell_type == "code":
            cell.execution_count = None
            cell.outputs = [
                o for o in cell.outputs
                if o.output_type != "error"
                and not (o.output_type == "stream" and o.get("name") == "stderr")
            ]
            for out in cell.outputs:
                if "execution_count" in out:
                    out.execution_count = None
        cells.append(cell)
    clean.cells = cells
    return clean


def _exporter(lang: str) -> Any:
    """Return this thread's HTML exporter (building one compiles the templates: slow)."""
    exporter = getattr(_local, "exporter", None)
    if exporter is None:
        import jinja2
        from nbconvert import HTMLExporter

        exporter = HTMLExporter(
            template_name="lab",
            extra_loaders=[jinja2.DictLoader({"ipo_report.html.j2": REPORT_TEMPLATE})],
            template_file="ipo_report.html.j2",
            exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True,
            embed_images=True,
        )
        _local.exporter = exporter
    exporter.language_code = lang
    return exporter


def export_html(nb: Any, *, title: str, lang: str = "nl") -> str:
    """Render an executed notebook as one self-contained HTML page.

    Parameters
    ----------
    nb
        Executed notebook (``nbformat.NotebookNode``).
    title
        Page title (``<title>``).
    lang
        ISO 639-1 language of the page (``<html lang>``).

    Raises
    ------
    ReportError
        When the page would load an external resource (for example an output that
        embeds a ``<script src>`` from a CDN).
    """
    clean = sanitise(nb, title=title)
    body, _ = _exporter(lang).from_notebook_node(clean, resources={"metadata": {"name": title}})
    refs = external_references(body)
    if refs:
        raise ReportError(
            f"the page would load {len(refs)} external resource(s), e.g. {refs[0]!r}",
            context={"report": title},
            hint="do not display outputs that load scripts or styles from the internet",
        )
    return str(body)


_TEXT = {
    "nl": {
        "failed": "Dit rapport kon niet worden gemaakt.",
        "cause": "Er trad een fout op ({name}) in cel {cell} van het sjabloon.",
        "cause_nocell": "Er trad een fout op ({name}) bij het maken van het rapport.",
        "log": "De technische details staan in het buildlogboek onder rapport-id {id}.",
        "index": "Overzicht van alle rapporten",
        "missing": "niet beschikbaar",
        "count": "{n} rapporten",
    },
    "en": {
        "failed": "This report could not be built.",
        "cause": "An error occurred ({name}) in cell {cell} of the template.",
        "cause_nocell": "An error occurred ({name}) while building the report.",
        "log": "Technical details are in the build log under report id {id}.",
        "index": "All reports",
        "missing": "not available",
        "count": "{n} reports",
    },
}

_PAGE = """<!DOCTYPE html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; max-width: 48rem;
       margin: 0 auto; padding: 1rem 1.5rem 3rem; line-height: 1.5; color: #1a1a1a; }}
a {{ color: #0b5394; }} a:focus {{ outline: 3px solid #f1c232; }}
.error {{ border-left: 4px solid #b00020; padding: 0.25rem 1rem; background: #fdf2f4; }}
.muted {{ color: #595959; }}
</style>
</head>
<body>
<main>
{body}
</main>
</body>
</html>
"""


def _texts(lang: str) -> Mapping[str, str]:
    return _TEXT.get(lang, _TEXT["en"])


def error_page(*, title: str, report_id: str, error_name: str, cell: int | None,
               lang: str = "nl") -> str:
    """Return the page published in place of a report that failed.

    It names the kind of error and the cell only: no message, traceback or path (those go
    to the build log).
    """
    t = _texts(lang)
    esc = html.escape
    cause = (t["cause"].format(name=esc(error_name), cell=cell) if cell is not None
             else t["cause_nocell"].format(name=esc(error_name)))
    body = (f"<h1>{esc(title)}</h1>\n<div class=\"error\" role=\"alert\">\n"
            f"<p><strong>{esc(t['failed'])}</strong></p>\n<p>{cause}</p>\n"
            f"<p>{esc(t['log'].format(id=report_id))}</p>\n</div>")
    return _PAGE.format(lang=esc(lang), title=esc(title), body=body)


@dataclass(frozen=True)
class IndexEntry:
    """One line of the index: a page, its group (template title) and whether it failed."""

    href: str
    title: str
    group: str
    ok: bool = True


def index_page(entries: Iterable[IndexEntry], *, title: str, lang: str = "nl") -> str:
    """Return an accessible index page listing the reports, grouped by template."""
    t = _texts(lang)
    esc = html.escape
    groups: dict[str, list[IndexEntry]] = {}
    for entry in entries:
        groups.setdefault(entry.group, []).append(entry)
    total = sum(len(v) for v in groups.values())
    parts = [f"<h1>{esc(title)}</h1>",
             f"<p class=\"muted\">{esc(t['count'].format(n=total))}</p>",
             f"<nav aria-label=\"{esc(t['index'])}\">"]
    for group, items in groups.items():
        parts.append(f"<section>\n<h2>{esc(group)}</h2>\n<ul>")
        for item in items:
            note = "" if item.ok else f" <span class=\"muted\">({esc(t['missing'])})</span>"
            parts.append(f"<li><a href=\"{esc(item.href, quote=True)}\">{esc(item.title)}</a>"
                         f"{note}</li>")
        parts.append("</ul>\n</section>")
    parts.append("</nav>")
    return _PAGE.format(lang=esc(lang), title=esc(title), body="\n".join(parts))


def relative_href(target: Sequence[str]) -> str:
    """Return a URL path from path parts (``['leerteam', 'zw-1.html']`` -> ``leerteam/zw-1.html``)."""
    from urllib.parse import quote

    return "/".join(quote(p) for p in target)
