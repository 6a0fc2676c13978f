"""Keyed pseudonyms (HMAC-SHA256) and the key that makes them.

An unkeyed hash of a student number is not a pseudonym: student numbers are few enough to
hash them all.  A keyed hash (HMAC) under a secret key kept apart from the data is.  The
key comes from, in this order: the ``key`` argument, a key file (outside any git work
tree), ``$IPO_RESEARCH_KEY`` (the key itself) or ``$IPO_RESEARCH_KEY_FILE`` (a key file).
Without a key nothing runs.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import itertools
import os
import re
import secrets
import stat
import subprocess
import sys
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from ipo_research.errors import PrivacyError

#: Environment variable holding the key itself.
KEY_ENV = "IPO_RESEARCH_KEY"
#: Environment variable holding the path of a key file.
KEY_FILE_ENV = "IPO_RESEARCH_KEY_FILE"
#: Shortest key accepted, in bytes.
MIN_KEY_BYTES = 16

_HEX_KEY = re.compile(r"^[0-9a-fA-F]{32,}$")
_FLOAT_ID = re.compile(r"^(\d+)\.0+$")


def _git_work_tree(path: Path) -> Path | None:
    """Return the root of the git work tree holding ``path``, or ``None``."""
    for parent in [path, *path.parents]:
        if (parent / ".git").exists():
            return parent
    return None


def write_key_file(path: str | os.PathLike[str]) -> Path:
    """Write a new random 32-byte key (hex) to ``path`` with mode 0600.

    Parameters
    ----------
    path
        Where to write the key.  Must not exist and must lie outside any git work tree.

    Returns
    -------
    Path
        The absolute path written.

    Raises
    ------
    PrivacyError
        When the file exists (a key is never overwritten: pseudonyms made with it would
        become unlinkable) or the path lies inside a git work tree.
    """
    target = Path(path).expanduser().absolute()
    if target.exists():
        raise PrivacyError(
            "a key file already exists and is never overwritten",
            file=str(target),
            hint="choose another path, or delete the old key only if no data depends on it",
        )
    repo = _git_work_tree(target.parent)
    if repo is not None:
        raise PrivacyError(
            "refusing to write a key inside a git work tree",
            file=str(target),
            context={"repository": str(repo)},
            hint="keep the key apart from the data, e.g. ~/.config/ipo_research/project.key",
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
    try:
        fd = os.open(target, flags, 0o600)
    except FileExistsError as err:
        raise PrivacyError(
            "a key file already exists and is never overwritten", file=str(target),
            hint="choose another path",
        ) from err
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(secrets.token_hex(32) + "\n")
    os.chmod(target, stat.S_IRUSR | stat.S_IWUSR)
    return target


def _decode_key(text: str) -> bytes:
    text = text.strip()
    if _HEX_KEY.match(text) and len(text) % 2 == 0:
        return bytes.fromhex(text)
    return text.encode("utf-8")


def read_key_file(path: str | os.PathLike[str]) -> bytes:
    """Read a key written by :func:`write_key_file` (hex) or any text key.

    Raises
    ------
    PrivacyError
        The file is missing, empty, too short, or inside a git work tree.
    """
    source = Path(path).expanduser().absolute()
    if not source.is_file():
        raise PrivacyError(
            "key file not found", file=str(source),
            hint="create one with 'ipo-research keygen PATH' (outside the repository)",
        )
    repo = _git_work_tree(source.parent)
    if repo is not None:
        raise PrivacyError(
            "refusing a key file inside a git work tree", file=str(source),
            context={"repository": str(repo)},
            hint="move the key outside the repository and keep it apart from the data",
        )
    return _check_key(_decode_key(source.read_text(encoding="utf-8")), str(source))


def _check_key(key: bytes, where: str | None) -> bytes:
    if len(key) < MIN_KEY_BYTES:
        raise PrivacyError(
            f"pseudonymisation key too short ({len(key)} bytes, need {MIN_KEY_BYTES})",
            file=where,
            hint="create a key with 'ipo-research keygen PATH'",
        )
    return key


def resolve_key(
    key: bytes | str | None = None, *, key_file: str | os.PathLike[str] | None = None
) -> bytes:
    """Return the pseudonymisation key from the argument, a key file or the environment.

    Parameters
    ----------
    key
        The key itself (bytes, or text encoded as UTF-8; 64 hex digits are decoded).
    key_file
        A key file (see :func:`write_key_file`).

    Returns
    -------
    bytes

    Raises
    ------
    PrivacyError
        No key found, or the key is shorter than 16 bytes.
    """
    if key is not None:
        raw = _decode_key(key) if isinstance(key, str) else bytes(key)
        return _check_key(raw, None)
    if key_file is not None:
        return read_key_file(key_file)
    env = os.environ.get(KEY_ENV)
    if env:
        return _check_key(_decode_key(env), f"${KEY_ENV}")
    env_file = os.environ.get(KEY_FILE_ENV)
    if env_file:
        return read_key_file(env_file)
    raise PrivacyError(
        "no pseudonymisation key: cleaning refuses to run without one",
        hint=(
            f"pass key=..., a key file, or set ${KEY_ENV} / ${KEY_FILE_ENV}; "
            "create a key with 'ipo-research keygen PATH' outside the repository"
        ),
    )


def normalise_id(value: object) -> str | None:
    """Normalise a respondent id: text, no surrounding or inner whitespace, casefolded.

    Numbers read as floats (``1234567.0`` from Excel or SPSS) become ``"1234567"``.
    Returns ``None`` for missing or empty ids.
    """
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float | np.floating):
        if np.isnan(value):
            return None
        if float(value).is_integer():
            return str(int(value))
    text = "".join(str(value).split()).casefold()
    match = _FLOAT_ID.match(text)
    if match:
        text = match.group(1)
    return text or None


def pseudonym(value: object, key: bytes) -> str | None:
    """Return the HMAC-SHA256 pseudonym (64 hex digits) of one respondent id.

    Parameters
    ----------
    value
        The raw respondent id; normalised with :func:`normalise_id` first, so
        ``" 1234567 "`` and ``1234567.0`` give the same pseudonym.
    key
        The secret key (see :func:`resolve_key`).

    Examples
    --------
    >>> pseudonym("1234567", b"0" * 32) == pseudonym(" 1234567.0", b"0" * 32)
    True
    """
    norm = normalise_id(value)
    if norm is None:
        return None
    return hmac.new(key, norm.encode("utf-8"), hashlib.sha256).hexdigest()


def normalise_ids(ids: pd.Series) -> pd.Series:
    """Vectorised :func:`normalise_id`: the same result for a whole column at once."""
    if pd.api.types.is_integer_dtype(ids.dtype):
        text = ids.astype("string[pyarrow]")  # digits only: nothing to normalise
    elif pd.api.types.is_float_dtype(ids.dtype):
        whole = ids.notna() & (ids % 1 == 0)
        text = ids.astype("string[pyarrow]")
        text[whole] = ids[whole].astype("int64").astype("string[pyarrow]")
    else:
        text = ids.astype("string[pyarrow]")
        text = text.str.replace(r"\s+", "", regex=True).str.casefold()
        floaty = text.str.fullmatch(r"\d+\.0+").fillna(False).to_numpy(dtype=bool)
        if floaty.any():
            text[floaty] = text[floaty].str.replace(r"\.0+$", "", regex=True)
    out = text.astype(object)
    out[text.isna().to_numpy() | (text == "").fillna(True).to_numpy()] = None
    return out


def respondent_codes(ids: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes of the normalised respondent ids.

    Equal normalised ids (see :func:`normalise_id`) get equal codes, so later steps
    (duplicates, wave matching) compare integers instead of strings.  Columns of one
    dtype (numbers, text) are factorised first and only their distinct values are
    normalised.

    Parameters
    ----------
    ids
        Raw respondent ids.

    Returns
    -------
    codes : numpy.ndarray
        ``int64`` code per row, ``-1`` where the id is missing or empty.
    uniques : numpy.ndarray
        The normalised ids (object array of ``str``), indexed by code.
    """
    if ids.dtype == object:
        # mixed Python values (Excel, SPSS): normalise every value
        codes, uniques = pd.factorize(normalise_ids(ids).to_numpy(), use_na_sentinel=True)
        return codes.astype(np.int64), np.asarray(uniques, dtype=object)
    raw_codes, raw_uniques = pd.factorize(ids, use_na_sentinel=True)
    norm = normalise_ids(pd.Series(raw_uniques, dtype=ids.dtype))
    if pd.api.types.is_integer_dtype(ids.dtype):
        # distinct integers have distinct decimal texts: the codes stay as they are
        return raw_codes.astype(np.int64), norm.to_numpy()
    codes, uniques = pd.factorize(norm.to_numpy(), use_na_sentinel=True)
    lookup = np.append(codes, -1).astype(np.int64)
    return lookup[raw_codes], np.asarray(uniques, dtype=object)


def _pads(key: bytes) -> tuple[bytes, bytes]:
    """The key padded to SHA-256's 64-byte block, XOR-ed with HMAC's ipad and opad."""
    block = key if len(key) <= 64 else hashlib.sha256(key).digest()
    block = block.ljust(64, b"\0")
    return bytes(b ^ 0x36 for b in block), bytes(b ^ 0x5C for b in block)


def respondent_keys(ids: pd.Series) -> tuple[np.ndarray, pa.LargeStringArray]:
    """:func:`respondent_codes` with the normalised ids as an Arrow string array.

    The form :class:`HmacJob` takes; integer ids (the usual student numbers) are
    factorised and only their distinct values written as text, by Arrow.
    """
    if pd.api.types.is_integer_dtype(ids.dtype) and not isinstance(ids.dtype, pd.ArrowDtype):
        codes, uniques = pd.factorize(ids, use_na_sentinel=True)
        text = pa.array(np.asarray(uniques, dtype=np.int64)).cast(pa.large_string())
        return codes.astype(np.int64), text
    codes, objects = respondent_codes(ids)
    return codes, pa.array(objects, type=pa.large_string())


def _sha256_for_short_messages() -> Any:
    """CPython's own SHA-256 when present (less overhead per call than OpenSSL's, which
    matters for short ids), else :func:`hashlib.sha256`; both compute the same digest."""
    for name in ("_sha256", "_sha2"):
        try:
            module = __import__(name)
        except ImportError:
            continue
        constructor = getattr(module, "sha256", None)
        if constructor is not None:
            return constructor
    return hashlib.sha256  # pragma: no cover - CPython has one of both


_SHA256 = _sha256_for_short_messages()


def _hmac_hex(messages: Sequence[bytes], key: bytes) -> bytes:
    """Concatenated hex HMAC-SHA256 of ``messages`` (see :func:`hmac_table`)."""
    ipad, opad = _pads(key)
    inner = _SHA256(ipad).copy
    outer = _SHA256(opad).copy
    digests: list[bytes] = []
    append = digests.append
    for message in messages:
        ih = inner()
        ih.update(message)
        oh = outer()
        oh.update(ih.digest())
        append(oh.digest())
    return b"".join(digests).hex().encode("ascii")


def hmac_table(ids: Sequence[str], key: bytes) -> np.ndarray:
    """HMAC-SHA256 (64 hex digits, as ``S64`` bytes) of each of ``ids``.

    HMAC (RFC 2104) with the padded key's inner and outer hash states computed once:
    identical to ``hmac.new(key, msg, sha256)`` and about twice as fast for many short ids.
    """
    return np.frombuffer(_hmac_hex([u.encode("utf-8") for u in ids], key), dtype="S64")


#: Ids per piece: the helper writes its HMACs piece by piece, and this process hashes
#: pieces from the other end while it waits (see :meth:`HmacJob.result`).
_PIECE = 4096

#: The helper process of :class:`HmacJob`: standard library only, so it starts in about
#: 10 ms.  It reads the two padded keys, the ids' offsets and their UTF-8 bytes from its
#: standard input and writes the HMACs (hex), piece by piece, to its standard output:
#: the computation of :func:`_hmac_hex`.
_HELPER = r"""
import sys
try:  # CPython's own SHA-256: less overhead per call than OpenSSL's for short ids
    from _sha256 import sha256
except ImportError:
    try:
        from _sha2 import sha256
    except ImportError:
        from hashlib import sha256
src = sys.stdin.buffer
head = src.read(24)
n, size, piece = (int.from_bytes(head[i:i + 8], "little") for i in (0, 8, 16))
inner = sha256(src.read(64)).copy
outer = sha256(src.read(64)).copy
bounds = memoryview(src.read(8 * (n + 1))).cast("q").tolist()
data = src.read(size)
out = sys.stdout.buffer
for start in range(0, n, piece):
    digests = []
    append = digests.append
    for i in range(start, min(n, start + piece)):
        ih = inner()
        ih.update(data[bounds[i]:bounds[i + 1]])
        oh = outer()
        oh.update(ih.digest())
        append(oh.digest())
    out.write(b"".join(digests).hex().encode("ascii"))
    out.flush()
"""

#: Fewer ids than this are hashed in the calling process (starting the helper costs about
#: as much as hashing some 10,000 ids).
HELPER_MIN_IDS = 20_000


class HmacJob:
    """The HMAC-SHA256 table (:func:`hmac_table`) of many ids, computed on another core.

    Hashing short ids one by one holds Python's GIL (about a microsecond per id), so a
    thread cannot overlap it with other work; a small helper process (standard library
    only; the key and the ids passed through a pipe, never on its command line or on
    disk) can.  It writes the HMACs piece by piece to an anonymous temporary file, so it
    never waits for this process.  The caller starts the job, does other work and
    collects :meth:`result`; if the helper has not finished by then, this process hashes
    the remaining ids from the other end until both meet.  The helper's part is
    spot-checked against :func:`hmac_table`; when the helper cannot run or its answer is
    wrong, the table is computed in this process: the result is the same either way.

    Parameters
    ----------
    ids
        Distinct normalised ids (Arrow string array without missing values).
    key
        The secret key.
    helper
        Use the helper process: ``None`` (default) when there are at least
        :data:`HELPER_MIN_IDS` ids and ``sys.executable`` can run it.
    """

    def __init__(self, ids: pa.Array, key: bytes, *, helper: bool | None = None) -> None:
        if isinstance(ids, pa.ChunkedArray):
            ids = ids.combine_chunks()
        self._ids = ids.cast(pa.large_string())
        self._key = key
        self._proc: subprocess.Popen[bytes] | None = None
        self._feeder: threading.Thread | None = None
        self._out: Any = None
        if helper is None:
            helper = len(ids) >= HELPER_MIN_IDS and bool(sys.executable) and not getattr(
                sys, "frozen", False)
        if helper and len(ids):
            self._start()

    def _buffers(self) -> tuple[np.ndarray, memoryview]:
        """The ids' offsets (from 0) and their UTF-8 bytes, straight from Arrow."""
        chunk = self._ids
        buffers = chunk.buffers()
        offsets = np.frombuffer(buffers[1], dtype=np.int64, count=chunk.offset + len(chunk) + 1)
        offsets = offsets[chunk.offset :]
        start, end = int(offsets[0]), int(offsets[-1])
        data = memoryview(buffers[2])[start:end] if buffers[2] is not None else memoryview(b"")
        return offsets - start, data

    def _start(self) -> None:
        try:
            self._out = tempfile.TemporaryFile()  # noqa: SIM115 - closed by result/close
            self._proc = subprocess.Popen(
                [sys.executable, "-I", "-S", "-c", _HELPER],
                stdin=subprocess.PIPE, stdout=self._out, stderr=subprocess.DEVNULL,
            )
        except OSError:  # no usable interpreter: hash in this process
            self._proc = None
            self._close_out()
            return
        offsets, data = self._buffers()
        ipad, opad = _pads(self._key)
        head = b"".join(v.to_bytes(8, "little") for v in (len(offsets) - 1, len(data), _PIECE))
        payload: list[bytes | memoryview] = [head, ipad, opad, offsets.astype("<i8").tobytes(), data]
        stdin = self._proc.stdin
        if stdin is None:  # pragma: no cover - stdin=PIPE always gives a pipe
            return

        def feed() -> None:
            # a thread: the pipe takes the ids only as fast as the helper reads them
            try:
                for part in payload:
                    stdin.write(part)
                stdin.close()
            except OSError:  # the helper died; result() notices and hashes here
                pass

        self._feeder = threading.Thread(target=feed, name="ipo-hmac-feed", daemon=True)
        self._feeder.start()

    def _hash_here(self, start: int, stop: int) -> bytes:
        """Hex HMACs of ids ``start:stop``, computed in this process."""
        offsets, data = self._buffers()
        bounds = offsets[start : stop + 1].tolist()
        raw = bytes(data[bounds[0] : bounds[-1]]) if stop > start else b""
        first = bounds[0] if bounds else 0
        return _hmac_hex(
            [raw[a - first : b - first] for a, b in itertools.pairwise(bounds)],
            self._key,
        )

    def _from_helper(self) -> np.ndarray | None:
        """The table from the helper's pieces and, while it is still busy, pieces hashed
        here from the other end; ``None`` when the helper's answer cannot be used."""
        proc, self._proc = self._proc, None
        if proc is None:
            return None
        n = len(self._ids)
        mine = n  # ids mine:n are hashed here
        tail: list[bytes] = []
        try:
            fileno = self._out.fileno()
            while proc.poll() is None:
                done = os.fstat(fileno).st_size // 64
                if done >= mine:
                    break
                start = max(done, mine - _PIECE)
                tail.append(self._hash_here(start, mine))
                mine = start
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            self._out.seek(0)
            head = self._out.read(64 * mine)
        finally:
            self._close_out()
            if self._feeder is not None:
                self._feeder.join()
        done = len(head) // 64
        if done < mine:  # the helper stopped early: hash its part of the rest here
            tail.append(self._hash_here(done, mine))
            head = head[: 64 * done]
        if done:
            probe = sorted({0, done // 2, done - 1})  # the helper computes _hmac_hex
            table = np.frombuffer(head, dtype="S64")
            if hmac_table([self._ids[i].as_py() for i in probe], self._key).tolist() != [
                table[i] for i in probe
            ]:
                return None
        return np.frombuffer(head + b"".join(reversed(tail)), dtype="S64")

    def result(self) -> np.ndarray:
        """The table: ``S64`` hex HMACs, one per id in the order given."""
        table = self._from_helper()
        if table is None:
            table = hmac_table(self._ids.to_pylist(), self._key)
        return table

    def close(self) -> None:
        """Stop the helper if it still runs (after an error in the caller)."""
        proc, self._proc = self._proc, None
        if proc is not None:
            proc.kill()
            proc.wait()
            if proc.stdin is not None:
                with contextlib.suppress(OSError):  # a pipe the feeder closed
                    proc.stdin.close()
        if self._feeder is not None:
            self._feeder.join()
        self._close_out()

    def _close_out(self) -> None:
        out, self._out = self._out, None
        if out is not None:
            out.close()

    def __enter__(self) -> HmacJob:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()


def pseudonym_series(table: np.ndarray, codes: np.ndarray) -> pd.Series:
    """Pseudonyms (string dtype) of row ``codes`` into ``table`` (:func:`hmac_table`).

    Built directly as an Arrow string array (no Python string per row); ``-1`` codes are
    missing.
    """
    valid = codes >= 0
    # gathered as eight 64-bit words per pseudonym: faster than 64-byte items
    words = table.view(np.uint64).reshape(-1, 8) if len(table) else np.zeros((0, 8), np.uint64)
    rows = np.take(words, codes[valid] if not valid.all() else codes, axis=0)
    lengths = np.where(valid, 64, 0).astype(np.int64)
    offsets = np.zeros(len(codes) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    bitmap = None
    if not valid.all():
        bitmap = pa.py_buffer(np.packbits(valid, bitorder="little"))
    data = pa.py_buffer(np.ascontiguousarray(rows).view(np.uint8)) if len(rows) else pa.py_buffer(b"")
    array = pa.LargeStringArray.from_buffers(
        len(codes), pa.py_buffer(offsets), data, bitmap, int((~valid).sum())
    )
    return pd.Series(pd.array(array, dtype=pd.StringDtype("pyarrow", na_value=np.nan)))


def hmac_ids(norm: pd.Series, key: bytes) -> pd.Series:
    """HMAC-SHA256 (hex) of already normalised ids; each distinct id is hashed once."""
    codes, uniques = pd.factorize(norm, use_na_sentinel=True)
    out = pseudonym_series(hmac_table([str(u) for u in uniques], key), codes)
    out.index = norm.index
    return out


def pseudonymise(ids: pd.Series, key: bytes) -> pd.Series:
    """Vectorised :func:`pseudonym`: each distinct id is hashed once.

    Parameters
    ----------
    ids
        Raw respondent ids.
    key
        The secret key.

    Returns
    -------
    pandas.Series
        Pseudonyms (string dtype), missing where the id is missing.
    """
    return hmac_ids(normalise_ids(ids), key)
