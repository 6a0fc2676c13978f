"""Presentation: APA 7 tables (nl/en, HTML, Word), figures and small-cell suppression.

Everything here takes results of :mod:`ipo_research.analysis` (or plain DataFrames with
their column names) and only formats, draws or blanks them; no statistic is computed.

* :mod:`~ipo_research.present.apa`: :func:`fmt_p`, :func:`fmt_num`, :func:`fmt_ci`...,
  :func:`apa_table` -> :class:`ApaTable` (``.frame``, ``.to_html()``, ``.to_docx()``);
* :mod:`~ipo_research.present.docx`: Word documents with several tables;
* :mod:`~ipo_research.present.figures`: :func:`likert_bars`, :func:`slope_plot`,
  :func:`forest_plot`, :func:`item_total_plot`, :func:`alt_text`, :func:`figure_html`;
* :mod:`~ipo_research.present.suppress`: :func:`suppress_table`, :func:`suppress_crosstab`,
  :func:`is_publishable`;
* :mod:`~ipo_research.present.labels`: every word shown, in Dutch and English.

Names are imported lazily, so ``import ipo_research.present`` does not load matplotlib.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

_LAZY = {
    "ApaTable": "apa",
    "apa_css": "apa",
    "apa_table": "apa",
    "fmt_ci": "apa",
    "fmt_df": "apa",
    "fmt_int": "apa",
    "fmt_num": "apa",
    "fmt_p": "apa",
    "fmt_stat": "apa",
    "table_kinds": "apa",
    "apa_docx_bytes": "docx",
    "write_apa_docx": "docx",
    "alt_text": "figures",
    "figure_html": "figures",
    "forest_plot": "figures",
    "item_total_plot": "figures",
    "likert_bars": "figures",
    "slope_plot": "figures",
    "DEFAULT_MIN_N": "suppress",
    "is_publishable": "suppress",
    "suppress_crosstab": "suppress",
    "suppress_table": "suppress",
    "suppression_note": "suppress",
}

__all__ = [
    "DEFAULT_MIN_N",
    "ApaTable",
    "alt_text",
    "apa_css",
    "apa_docx_bytes",
    "apa_table",
    "figure_html",
    "fmt_ci",
    "fmt_df",
    "fmt_int",
    "fmt_num",
    "fmt_p",
    "fmt_stat",
    "forest_plot",
    "is_publishable",
    "item_total_plot",
    "likert_bars",
    "slope_plot",
    "suppress_crosstab",
    "suppress_table",
    "suppression_note",
    "table_kinds",
    "write_apa_docx",
]

if TYPE_CHECKING:  # pragma: no cover
    from ipo_research.present.apa import (
        ApaTable,
        apa_css,
        apa_table,
        fmt_ci,
        fmt_df,
        fmt_int,
        fmt_num,
        fmt_p,
        fmt_stat,
        table_kinds,
    )
    from ipo_research.present.docx import apa_docx_bytes, write_apa_docx
    from ipo_research.present.figures import (
        alt_text,
        figure_html,
        forest_plot,
        item_total_plot,
        likert_bars,
        slope_plot,
    )
    from ipo_research.present.suppress import (
        DEFAULT_MIN_N,
        is_publishable,
        suppress_crosstab,
        suppress_table,
        suppression_note,
    )


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(f"ipo_research.present.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'ipo_research.present' has no attribute {name!r}")
