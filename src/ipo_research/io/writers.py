"""Atomic writers: the only code in ``ipo_research`` that writes data to disk.

Every writer

* writes to a temporary file in the target's folder and moves it into place with
  :func:`os.replace`, so a reader never sees a half-written file and a failure mid-write
  leaves the previous file untouched;
* creates missing parent folders;
* refuses any path inside a ``data/raw`` folder (raw data is immutable), unless
  ``allow_raw=True`` is passed, which only the synthetic-data generator does (it *creates* raw
  data).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import errno
import itertools
import json
import math
import os
import tempfile
from collections.abc import Callable, Hashable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

from ipo_research.errors import WriteError

__all__ = [
    "atomic_open",
    "atomic_write_bytes",
    "atomic_write_text",
    "check_writable",
    "is_raw_path",
    "to_jsonable",
    "write_csv",
    "write_json",
    "write_parquet",
]

_UMASK = os.umask(0o022)
os.umask(_UMASK)


def is_raw_path(path: str | Path) -> bool:
    """Whether ``path`` lies inside (or is) a ``data/raw`` folder.

    The path is made absolute and symbolic links are resolved first; the comparison of the
    folder names ignores case.

    Examples
    --------
    >>> is_raw_path("data/raw/demo/x.csv"), is_raw_path("data/processed/x.parquet")
    (True, False)
    """
    parts = [p.casefold() for p in Path(path).expanduser().resolve().parts]
    return any(a == "data" and b == "raw" for a, b in itertools.pairwise(parts))


def check_writable(path: str | Path, *, allow_raw: bool = False) -> Path:
    """Return ``path`` as a :class:`~pathlib.Path` after checking that writing there is allowed.

    Raises
    ------
    WriteError
        ``path`` is inside ``data/raw`` (and ``allow_raw`` is false) or is a folder.
    """
    path = Path(path)
    if not allow_raw and is_raw_path(path):
        raise WriteError(
            "refusing to write inside data/raw: raw data is read-only", file=str(path),
            hint="write derived files to data/interim or data/processed",
        )
    if path.is_dir():
        raise WriteError("the target is a folder", file=str(path), hint="give a file name")
    return path


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not possible on every platform/file system
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _temp_beside(target: Path) -> tuple[int, Path]:
    """Create the target's folder and an empty temporary file in it: (open fd, path)."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.",
                                        suffix=".tmp")
    except OSError as exc:
        raise WriteError(f"cannot create the output folder or file: {exc.strerror}",
                         file=str(target), hint="check the path and your permissions") from exc
    return fd, Path(tmp_name)


def _move_into_place(tmp: Path, target: Path) -> None:
    """Give ``tmp`` the target's permissions (a new file: 0666 minus the umask) and move it
    over ``target``."""
    mode = target.stat().st_mode & 0o777 if target.exists() else 0o666 & ~_UMASK
    os.chmod(tmp, mode)
    os.replace(tmp, target)


def _atomic(path: str | Path, write: Callable[[Path], None], *, allow_raw: bool) -> Path:
    """Call ``write(tmp)`` for a temporary path beside ``path``, then move it into place."""
    target = check_writable(path, allow_raw=allow_raw)
    fd, tmp = _temp_beside(target)
    os.close(fd)
    try:
        write(tmp)
        _move_into_place(tmp, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        if isinstance(exc, WriteError) or not isinstance(exc, Exception):
            raise
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise WriteError(f"writing failed, the previous file (if any) is unchanged: {reason}",
                         file=str(target), hint=_write_hint(exc)) from exc
    _fsync_dir(target.parent)
    return target


def _write_hint(exc: Exception) -> str:
    """How to fix a failed write, by its cause."""
    if isinstance(exc, OSError):
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return "free disk space (or write elsewhere) and run again"
        if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            return "write to a folder you may write to, or fix the file's permissions"
        return "check the path, the disk and your permissions, then run again"
    return ("the data could not be converted to this file format: check the column types "
            "(for example a column mixing text and numbers) and run again")


@contextlib.contextmanager
def atomic_open(
    path: str | Path, mode: str = "wb", *, encoding: str | None = None, allow_raw: bool = False
) -> Iterator[IO[Any]]:
    """Open a temporary file that replaces ``path`` when the ``with`` block ends without error.

    If the block raises, the temporary file is removed and ``path`` keeps its old content.

    Parameters
    ----------
    path
        Final file.
    mode
        ``"wb"`` or ``"w"`` (text; ``encoding`` defaults to UTF-8).
    allow_raw
        Allow writing inside ``data/raw`` (only for generators of raw data).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "out.txt"
    >>> with atomic_open(target, "w") as fh:
    ...     _ = fh.write("hallo")
    >>> target.read_text()
    'hallo'
    """
    if mode not in ("wb", "w"):
        raise WriteError(f"mode {mode!r} is not supported", file=str(path), hint="use 'wb' or 'w'")
    target = check_writable(path, allow_raw=allow_raw)
    fd, tmp = _temp_beside(target)
    fh: IO[Any]
    if mode == "wb":
        fh = os.fdopen(fd, "wb")
    else:
        fh = os.fdopen(fd, "w", encoding=encoding or "utf-8", newline="")
    try:
        yield fh
        fh.flush()
        os.fsync(fh.fileno())
        fh.close()
        _move_into_place(tmp, target)
    except BaseException:
        fh.close()
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _fsync_dir(target.parent)


def atomic_write_bytes(path: str | Path, data: bytes, *, allow_raw: bool = False) -> Path:
    """Write ``data`` to ``path`` atomically; return the path.

    Raises
    ------
    WriteError
        Refused (``data/raw``) or failed; a previous file at ``path`` is then unchanged.
    """

    def _write(tmp: Path) -> None:
        with tmp.open("wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())

    return _atomic(path, _write, allow_raw=allow_raw)


def atomic_write_text(
    path: str | Path, text: str, *, encoding: str = "utf-8", allow_raw: bool = False
) -> Path:
    """Write ``text`` to ``path`` atomically (no newline translation); return the path."""
    try:
        data = text.encode(encoding)
    except (UnicodeEncodeError, LookupError) as exc:
        raise WriteError(f"cannot encode the text as {encoding}: {exc}", file=str(path),
                         hint="use encoding='utf-8'") from exc
    return atomic_write_bytes(path, data, allow_raw=allow_raw)


def to_jsonable(obj: Any) -> Any:
    """Convert ``obj`` to plain JSON types.

    NumPy scalars and arrays, pandas Series/DataFrames (records), timestamps, paths, sets and
    tuples are converted; NaN, NA and infinities become ``None`` (strict JSON has no NaN).

    Raises
    ------
    TypeError
        For objects with no JSON form.
    """
    if obj is None or isinstance(obj, bool | str):
        return obj
    if isinstance(obj, int):
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, np.generic):
        return to_jsonable(obj.item())
    if isinstance(obj, Mapping):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple | set | frozenset):
        items = sorted(obj, key=str) if isinstance(obj, set | frozenset) else obj
        return [to_jsonable(v) for v in items]
    if isinstance(obj, np.ndarray):
        return [to_jsonable(v) for v in obj.tolist()]
    if isinstance(obj, pd.DataFrame):
        return [to_jsonable(r) for r in obj.to_dict(orient="records")]
    if isinstance(obj, pd.Series):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, pd.Timestamp | _dt.datetime | _dt.date):
        return obj.isoformat()
    if isinstance(obj, Path):
        return obj.as_posix()
    if obj is pd.NA or obj is pd.NaT:
        return None
    raise TypeError(f"{type(obj).__name__} has no JSON form")


def write_json(
    obj: Any, path: str | Path, *, indent: int | None = 2, allow_raw: bool = False
) -> Path:
    """Write ``obj`` as strict UTF-8 JSON (keys in given order, NaN as ``null``), atomically.

    Raises
    ------
    WriteError
        ``obj`` has no JSON form, or the write was refused or failed.
    """
    try:
        text = json.dumps(to_jsonable(obj), indent=indent, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise WriteError(f"cannot write this object as JSON: {exc}", file=str(path),
                         hint="convert it to dicts, lists, numbers and text first") from exc
    return atomic_write_text(path, text + "\n", allow_raw=allow_raw)


def write_csv(
    df: pd.DataFrame,
    path: str | Path,
    *,
    sep: str = ",",
    decimal: str = ".",
    encoding: str = "utf-8",
    index: bool = False,
    allow_raw: bool = False,
) -> Path:
    """Write ``df`` as CSV atomically (``sep=";", decimal=","`` for Dutch Excel).

    Raises
    ------
    WriteError
        Refused (``data/raw``) or failed; a previous file at ``path`` is then unchanged.
    """
    if sep == decimal:
        raise WriteError(f"separator and decimal mark are both {sep!r}", file=str(path),
                         hint="use sep=';' with decimal=','")

    def _write(tmp: Path) -> None:
        df.to_csv(tmp, sep=sep, decimal=decimal, encoding=encoding, index=index,
                  lineterminator="\n")

    return _atomic(path, _write, allow_raw=allow_raw)


def _json_safe_attrs(attrs: Mapping[Any, Any]) -> dict[Hashable, Any]:
    safe: dict[Hashable, Any] = {}
    for key, value in attrs.items():
        try:
            converted = to_jsonable(value)
            json.dumps(converted, allow_nan=False)
        except (TypeError, ValueError):
            continue  # attrs that cannot be stored are left out of the Parquet metadata
        safe[str(key)] = converted
    return safe


def write_parquet(
    df: pd.DataFrame, path: str | Path, *, index: bool = False, allow_raw: bool = False
) -> Path:
    """Write ``df`` as Parquet (pyarrow) atomically.

    ``df.attrs`` that have a JSON form are stored in the file's metadata (pandas restores them
    on :func:`pandas.read_parquet`); others are left out.

    Raises
    ------
    WriteError
        A column cannot be stored (e.g. mixed types), or the write was refused or failed; a
        previous file at ``path`` is then unchanged.
    """
    out = df.copy(deep=False)
    out.attrs = _json_safe_attrs(df.attrs)

    def _write(tmp: Path) -> None:
        out.to_parquet(tmp, engine="pyarrow", index=index)

    return _atomic(path, _write, allow_raw=allow_raw)
