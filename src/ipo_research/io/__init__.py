"""Reading exports and writing results: the only code in ``ipo_research`` that touches disk.

Readers (:func:`read_survey`, :func:`read_yaml`) never change a file; writers are atomic and
refuse ``data/raw`` (see :mod:`ipo_research.io.writers`).
"""

from __future__ import annotations

from ipo_research.io.processed import read_processed
from ipo_research.io.readers import (
    SUPPORTED_EXTENSIONS,
    file_sha256,
    parse_yaml,
    read_survey,
    read_yaml,
    sniff_text,
)
from ipo_research.io.writers import (
    atomic_open,
    atomic_write_bytes,
    atomic_write_text,
    check_writable,
    is_raw_path,
    to_jsonable,
    write_csv,
    write_json,
    write_parquet,
)

__all__ = [
    "SUPPORTED_EXTENSIONS",
    "atomic_open",
    "atomic_write_bytes",
    "atomic_write_text",
    "check_writable",
    "file_sha256",
    "is_raw_path",
    "parse_yaml",
    "read_processed",
    "read_survey",
    "read_yaml",
    "sniff_text",
    "to_jsonable",
    "write_csv",
    "write_json",
    "write_parquet",
]
