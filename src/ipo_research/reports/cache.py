"""Incremental builds: fingerprints of reports and the cache state file.

A report's fingerprint hashes everything its page depends on: the template's content,
the complete parameters, the content of its declared inputs, the title and language, the
package version and the engine format.  Content hashes of files are kept in the state file
with their size and modification time, so an unchanged file is not read again (a stat
costs microseconds; rehashing happens only when size or mtime changed).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ipo_research.errors import ReportError, WriteError
from ipo_research.io.readers import file_sha256
from ipo_research.io.writers import atomic_write_bytes

__all__ = ["ENGINE_FORMAT", "BuildCache", "atomic_write", "fingerprint"]

#: Bumped when the way pages are produced changes, so every page is rebuilt.
ENGINE_FORMAT = 1
_STATE_VERSION = 1


def atomic_write(path: Path, data: str | bytes) -> None:
    """Write a report file atomically through :func:`ipo_research.io.writers.atomic_write_bytes`.

    An interrupted write leaves the old file (or none), never a half-written one; like every
    writer of the toolkit it refuses ``data/raw``.

    Raises
    ------
    ReportError
        When the file cannot be written.
    """
    raw = data.encode("utf-8") if isinstance(data, str) else data
    try:
        atomic_write_bytes(path, raw)
    except WriteError as err:
        raise ReportError(f"cannot write {path.name}: {err.what}", file=str(path),
                          hint=err.hint or "check permissions and free disk space") from err


def fingerprint(parts: Mapping[str, Any]) -> str:
    """Return the SHA-256 of a JSON-serialisable mapping (keys sorted)."""
    text = json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class BuildCache:
    """The state file of incremental builds (``.ipo_cache/reports.json`` by default).

    Parameters
    ----------
    path
        Location of the state file; a missing or unreadable file means an empty cache.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.files: dict[str, dict[str, Any]] = {}
        self.reports: dict[str, dict[str, Any]] = {}
        try:
            state = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            state = {}
        if isinstance(state, dict) and state.get("version") == _STATE_VERSION:
            self.files = dict(state.get("files", {}))
            self.reports = dict(state.get("reports", {}))

    def file_hash(self, path: Path) -> str:
        """Return the SHA-256 of a file, reusing the stored hash when size and mtime match.

        Raises
        ------
        ReportError
            When the file cannot be read.
        """
        key = str(path)
        try:
            st = path.stat()
        except OSError as err:
            raise ReportError("input file not found", file=key,
                              hint="build the data first or fix the plan") from err
        known = self.files.get(key)
        if known and known["size"] == st.st_size and known["mtime_ns"] == st.st_mtime_ns:
            return str(known["sha256"])
        try:
            digest = file_sha256(path)
        except OSError as err:
            raise ReportError("input file cannot be read", file=key,
                              hint="check the file's permissions or rebuild it") from err
        self.files[key] = {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": digest}
        return digest

    def hashes(self, paths: Iterable[Path]) -> list[tuple[str, str]]:
        """Return ``(path, sha256)`` for each path, in order."""
        return [(str(p), self.file_hash(p)) for p in paths]

    def is_fresh(self, report_id: str, key: str, outputs: Iterable[Path]) -> bool:
        """Whether the report was built successfully with this fingerprint and its files exist."""
        entry = self.reports.get(report_id)
        return bool(entry and entry.get("key") == key and entry.get("status") == "ok"
                    and all(p.is_file() for p in outputs))

    def record(self, report_id: str, key: str, status: str) -> None:
        """Remember the outcome of a report."""
        self.reports[report_id] = {"key": key, "status": status}

    def save(self) -> None:
        """Write the state file atomically."""
        state = {"version": _STATE_VERSION, "files": self.files, "reports": self.reports}
        atomic_write(self.path, json.dumps(state, indent=1, sort_keys=True))
