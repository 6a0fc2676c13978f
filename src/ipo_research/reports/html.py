"""Self-contained HTML pages: report pages, error pages and the index.

Every page is one small HTML5 document (:func:`document`): ``<html lang>``, ``<meta
charset>``, a viewport, a ``<title>``, one embedded stylesheet (``templates/page.css``
plus the APA table rules of :func:`ipo_research.present.apa.apa_css`) and a ``<main>``
landmark.  Nothing is loaded from elsewhere.

Report pages come from nbconvert's ``basic`` template (the cells' HTML only, without
JupyterLab's ~250 KB stylesheet).  Before export the notebook is sanitised
(:func:`sanitise`): the ``parameters`` and ``injected-parameters`` cells are removed, all
notebook and cell metadata (papermill parameters, input/output paths, timings) is
dropped, and stderr streams and error outputs, which can show file paths, stay in the
audit notebook only.  Outputs that show nothing on a page (recorded values) or repeat
the page's stylesheet (:func:`ipo_research.present.report.page_style`) are left out.
Code is hidden (``exclude_input``); figures are embedded as data URIs; every table is
wrapped in a labelled, keyboard-focusable region that scrolls sideways on narrow
screens.  :func:`external_references` is the guard that every page passes before it is
published.
"""

from __future__ import annotations

import copy
import html
import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from ipo_research.errors import ReportError

__all__ = [
    "IndexEntry",
    "document",
    "error_page",
    "export_html",
    "external_references",
    "index_page",
    "page_css",
    "sanitise",
]

#: Cell tags whose cells never reach a published page.
HIDDEN_TAGS = frozenset({"parameters", "injected-parameters", "remove-cell", "remove_cell",
                         "papermill-error-cell-tag"})

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


_TEXT = {
    "nl": {
        "failed": "Dit rapport kon niet worden gemaakt.",
        "cause": "Er trad een fout op ({name}) in cel {cell} van het sjabloon.",
        "cause_nocell": "Er trad een fout op ({name}) bij het maken van het rapport.",
        "log": "De technische details staan in het buildlogboek onder rapport-id {id}.",
        "index": "Overzicht van alle rapporten",
        "missing": "niet beschikbaar",
        "count": "{n} rapporten",
        "table": "Tabel",
    },
    "en": {
        "failed": "This report could not be built.",
        "cause": "An error occurred ({name}) in cell {cell} of the template.",
        "cause_nocell": "An error occurred ({name}) while building the report.",
        "log": "Technical details are in the build log under report id {id}.",
        "index": "All reports",
        "missing": "not available",
        "count": "{n} reports",
        "table": "Table",
    },
}

_DOCUMENT = """<!DOCTYPE html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
{css}
</style>
</head>
<body>
<main>
{body}
</main>
</body>
</html>
"""


@cache
def page_css() -> str:
    """Return the stylesheet embedded in every page (page layout plus APA tables)."""
    from importlib.resources import files

    from ipo_research.present.apa import apa_css

    own = (files("ipo_research.reports") / "templates" / "page.css").read_text(encoding="utf-8")
    return own.strip() + "\n" + apa_css().strip()


def document(body: str, *, title: str, lang: str = "nl") -> str:
    """Wrap HTML in the page shell: language, charset, viewport, title, style, ``<main>``.

    ``body`` is inserted as is (it must already be safe HTML); ``title`` and ``lang``
    are escaped.

    Examples
    --------
    >>> page = document("<h1>Rapport</h1>", title="R & D", lang="nl")
    >>> '<html lang="nl">' in page and "<title>R &amp; D</title>" in page
    True
    >>> page.count("<main>"), page.count("<style>")
    (1, 1)
    """
    esc = html.escape
    return _DOCUMENT.format(lang=esc(lang, quote=True), title=esc(title), css=page_css(),
                            body=body.strip())


def _html_of(output: Any) -> str | None:
    """Return an output's ``text/html`` (what nbconvert renders first), if it has one."""
    value = output.get("data", {}).get("text/html")
    if value is None:
        return None
    return "".join(value) if isinstance(value, list) else str(value)


def _shows_nothing_new(output: Any) -> bool:
    """Whether an output renders as nothing, or only as a stylesheet the page already has.

    Recorded values (:func:`ipo_research.present.report.record`) carry an empty
    ``text/html``; :func:`ipo_research.present.report.page_style` displays the APA
    stylesheet, which :func:`page_css` already embeds once in the ``<head>``.
    """
    if output.get("output_type") not in ("display_data", "execute_result"):
        return False
    markup = _html_of(output)
    if markup is None:
        return False
    markup = markup.strip()
    return not markup or markup == _apa_style_output()


@cache
def _apa_style_output() -> str:
    """The markup :func:`ipo_research.present.report.page_style` displays (read once)."""
    from ipo_research.present.apa import apa_css

    return f"<style>{apa_css()}</style>".strip()


def _exporter() -> Any:
    """Return this thread's HTML exporter (building one compiles the templates: slow)."""
    exporter = getattr(_local, "exporter", None)
    if exporter is None:
        from nbconvert import HTMLExporter

        exporter = HTMLExporter(
            template_name="basic",
            exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True,
            embed_images=True,
        )
        _local.exporter = exporter
    return exporter


_ANCHOR_LINK = re.compile(r'<a class="anchor-link" href="[^"]*">[^<]*</a>')
_TABLE = re.compile(r"<table\b.*?</table>", re.IGNORECASE | re.DOTALL)
_CAPTION = re.compile(r"<caption\b[^>]*>(.*?)</caption>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]+>")


def _label(table: str, fallback: str) -> str:
    """Return a table's accessible name: its caption as plain text, else ``fallback``."""
    caption = _CAPTION.search(table)
    if caption is None:
        return fallback
    text = html.unescape(_TAG.sub(" ", caption.group(1)))
    return " ".join(text.split()) or fallback


def _wrap_tables(body: str, lang: str) -> str:
    """Put every table in a focusable, labelled region that scrolls sideways when wide."""
    word = _texts(lang)["table"]
    count = 0

    def wrap(match: re.Match[str]) -> str:
        nonlocal count
        count += 1
        label = html.escape(_label(match.group(0), f"{word} {count}"), quote=True)
        return (f'<div class="table-scroll" role="region" aria-label="{label}" tabindex="0">'
                f"{match.group(0)}</div>")

    return _TABLE.sub(wrap, body)


def export_html(nb: Any, *, title: str, lang: str = "nl") -> str:
    """Render an executed notebook as one self-contained HTML page.

    Parameters
    ----------
    nb
        Executed notebook (``nbformat.NotebookNode``).
    title
        Page title (``<title>``).
    lang
        ISO 639-1 language of the page (``<html lang>``, table labels).

    Raises
    ------
    ReportError
        When the page would load an external resource (for example an output that
        embeds a ``<script src>`` from a CDN).
    """
    clean = sanitise(nb, title=title)
    for cell in clean.cells:
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.outputs if not _shows_nothing_new(o)]
    body, _ = _exporter().from_notebook_node(clean, resources={"metadata": {"name": title}})
    body = _wrap_tables(_ANCHOR_LINK.sub("", str(body)), lang)
    refs = external_references(body)
    if refs:
        raise ReportError(
            f"the page would load {len(refs)} external resource(s), e.g. {refs[0]!r}",
            context={"report": title},
            hint="do not display outputs that load scripts or styles from the internet",
        )
    return document(body, title=title, lang=lang)


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
    return document(body, title=title, lang=lang)


@dataclass(frozen=True)
class IndexEntry:
    """One line of the index: a page, its group (template title) and whether it failed."""

    href: str
    title: str
    group: str
    ok: bool = True
    lang: str | None = None  # the page's language when it differs from the index's


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
            other = (f" lang=\"{esc(item.lang, quote=True)}\" hreflang=\"{esc(item.lang, quote=True)}\""
                     if item.lang and item.lang != lang else "")
            parts.append(f"<li><a href=\"{esc(item.href, quote=True)}\"{other}>{esc(item.title)}</a>"
                         f"{note}</li>")
        parts.append("</ul>\n</section>")
    parts.append("</nav>")
    return document("\n".join(parts), title=title, lang=lang)


def relative_href(target: Sequence[str]) -> str:
    """Return a URL path from path parts (``['leerteam', 'zw-1.html']`` -> ``leerteam/zw-1.html``)."""
    from urllib.parse import quote

    return "/".join(quote(p) for p in target)
