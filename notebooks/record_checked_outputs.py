"""Record the expected outputs of the notebooks' ``# NBVAL_CHECK_OUTPUT`` cells.

The notebooks are committed without outputs, except the cells marked with the comment
``# NBVAL_CHECK_OUTPUT``: ``pytest --nbval-lax`` (``make test``) runs every notebook and
compares the output of exactly those cells with the committed one, after the regex
sanitiser ``notebooks/nbval_sanitize.cfg``.  When a deliberate change alters those
outputs, refresh them with this script (after ``make demo-data``) and review the diff::

    .venv/bin/python notebooks/record_checked_outputs.py             # all notebooks
    .venv/bin/python notebooks/record_checked_outputs.py 02_change   # one notebook

Each notebook is executed with its default parameters in ``notebooks/`` (as nbval does);
then every output is stripped except those of marked cells, and every execution count
is cleared except that of a marked cell: nbval refuses to compare the outputs of a cell
that was never run ("Unrun reference cell has outputs"), so a marked cell keeps the count
of a top-to-bottom run (its position among the code cells), which is deterministic.  A marked cell may only print plain text, and that text is refused when it
holds a pseudonym or key (64 hex digits), a file path or the local pseudonymisation key.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import nbformat

from ipo_research.errors import ReportError

HERE = Path(__file__).resolve().parent
MARKER = "NBVAL_CHECK_OUTPUT"

#: What a recorded output must never contain: pseudonyms/keys and file paths.
FORBIDDEN = {
    "64 hex digits (a pseudonym or key)": re.compile(r"(?i)(?<![0-9a-f])[0-9a-f]{64}(?![0-9a-f])"),
    "an absolute or home path": re.compile(
        r"(?<![\w.])(?:/(?:[\w.-]+/)+[\w.-]*|~/|[A-Za-z]:\\|file:)"),
    "a relative path": re.compile(r"(?<![\w.])\.\.?/"),
}


def is_checked(cell: Any) -> bool:
    """Whether a cell carries nbval's ``# NBVAL_CHECK_OUTPUT`` comment (as nbval reads it).

    Examples
    --------
    >>> is_checked({"cell_type": "code", "source": "# NBVAL_CHECK_OUTPUT\\nprint(1)"})
    True
    >>> is_checked({"cell_type": "code", "source": "print(1)  # NBVAL_CHECK_OUTPUT"})
    False
    """
    if cell.get("cell_type") != "code":
        return False
    return any(line.strip().startswith("#") and line.strip().lstrip("#").strip() == MARKER
               for line in str(cell.get("source", "")).splitlines())


def local_keys() -> list[str]:
    """The pseudonymisation keys of this machine (key file and environment), as text."""
    keys = [os.environ.get("IPO_RESEARCH_KEY", "")]
    files = [Path.home() / ".config" / "ipo_research" / "demo.key"]
    if os.environ.get("IPO_RESEARCH_KEY_FILE"):
        files.append(Path(os.environ["IPO_RESEARCH_KEY_FILE"]))
    for file in files:
        try:
            keys.append(file.read_text(encoding="utf-8").strip())
        except (OSError, UnicodeDecodeError):
            continue
    return [k for k in keys if len(k) >= 16]


def output_text(output: Any) -> str:
    """The text of a plain-text output (stdout stream or ``text/plain`` result).

    Raises
    ------
    ReportError
        For any other output (stderr, errors, HTML, images, records).
    """
    kind = output.get("output_type")
    if kind == "stream" and output.get("name") == "stdout":
        return str(output.get("text", ""))
    data = output.get("data", {})
    if kind in ("execute_result", "display_data") and set(data) == {"text/plain"}:
        return str(data["text/plain"])
    raise ReportError(
        f"a checked cell produced a {kind} output that is not plain text",
        context={"mime": ", ".join(data) or output.get("name", "")},
        hint="let # NBVAL_CHECK_OUTPUT cells only print() rounded values",
    )


def problems(text: str, keys: Sequence[str] = ()) -> list[str]:
    """Reasons why ``text`` may not be committed as an expected output (empty if none).

    Examples
    --------
    >>> problems("n = 812, d_z = 0,77")
    []
    >>> problems("data in /home/lector/ipo")
    ['an absolute or home path']
    """
    found = [what for what, pattern in FORBIDDEN.items() if pattern.search(text)]
    if any(key in text for key in keys):
        found.append("the pseudonymisation key")
    return found


def execute(path: Path) -> Any:
    """Execute a notebook with its default parameters in ``notebooks/`` and return it."""
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    os.environ.setdefault("MPLBACKEND", "Agg")
    NotebookClient(nb, kernel_name="python3", timeout=600,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    return nb


def keep_checked(original: Any, executed: Any, *, name: str = "") -> Any:
    """The original notebook with the outputs of its checked cells taken from ``executed``.

    Raises
    ------
    ReportError
        When the cells differ, or a checked output is not plain text or is not safe to
        commit (see :func:`problems`).
    """
    if [c.get("id") for c in original.cells] != [c.get("id") for c in executed.cells]:
        raise ReportError("the executed notebook has other cells than the committed one",
                          context={"notebook": name}, hint="run the script again")
    keys = local_keys()
    count = 0
    for index, (cell, done) in enumerate(zip(original.cells, executed.cells, strict=True)):
        if cell.cell_type != "code":
            continue
        count += 1
        cell.execution_count = None
        cell.outputs = []
        if not is_checked(cell):
            continue
        cell.execution_count = count
        for output in done.outputs:
            bad = problems(output_text(output), keys)
            if bad:
                raise ReportError(f"a checked output contains {', '.join(bad)}",
                                  context={"notebook": name, "cell": index},
                                  hint="print only rounded, non-identifying values")
            if "execution_count" in output:
                output["execution_count"] = count
            output.pop("metadata", None)
            if output.get("output_type") != "stream":
                output["metadata"] = {}
            cell.outputs.append(output)
    return original


def main(argv: Sequence[str] | None = None) -> int:
    """Refresh the expected outputs of the named notebooks (default: all)."""
    names = list(sys.argv[1:] if argv is None else argv)
    paths = [HERE / f"{n.removesuffix('.ipynb')}.ipynb" for n in names] or sorted(
        HERE.glob("*.ipynb"))
    for path in paths:
        original = nbformat.read(path, as_version=4)
        recorded = keep_checked(original, execute(path), name=path.name)
        nbformat.validate(recorded)
        nbformat.write(recorded, path)
        checked = sum(is_checked(c) for c in recorded.cells)
        print(f"{path.name}: outputs of {checked} checked cell(s) recorded")
    return 0


if __name__ == "__main__":
    sys.exit(main())
