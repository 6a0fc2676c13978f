"""Read the processed (cleaned, pseudonymised) Parquet files that reports start from.

``ipo-research clean`` writes one ``<export>.parquet`` per export into a folder such as
``data/processed/demo/``, each with the instrument's name in its metadata
(``df.attrs["instrument"]``).  :func:`read_processed` reads the files of one instrument
and stacks them, so that a report sees all regions and cohorts at once.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd

from ipo_research.errors import ReadError

__all__ = ["CONTEXT_COLUMNS", "WAVE_ORDER", "processed_files", "read_processed"]

#: Context columns whose empty strings mean "no value" (a ``.sav`` export has ``""`` where
#: a CSV export has a missing value, e.g. students without a leerteam).
CONTEXT_COLUMNS: tuple[str, ...] = ("Regio", "Instelling", "Opleiding", "Niveau", "Cohort",
                                    "Leerteam")
#: Order of the waves: the first is the reference category in models (growth = ``wavepost``).
WAVE_ORDER: tuple[str, ...] = ("pre", "post")
#: Order of the levels: mbo first, so models estimate the extra growth of hbo students.
LEVEL_ORDER: tuple[str, ...] = ("mbo", "hbo")


def _instrument_of(path: Path) -> str | None:
    """Instrument recorded in a Parquet file's metadata (``None`` when absent)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        meta = pq.read_schema(path).metadata or {}
    except (OSError, pa.ArrowException) as err:
        raise ReadError(f"cannot read the Parquet file: {err}", file=str(path),
                        hint="re-create it with 'ipo-research clean'") from err
    raw = meta.get(b"PANDAS_ATTRS")
    if raw is None:
        return None
    try:
        value = json.loads(raw).get("instrument")
    except (ValueError, AttributeError):
        return None
    return str(value) if value is not None else None


def processed_files(folder_or_file: str | os.PathLike[str], *,
                    instrument: str | None = None) -> list[Path]:
    """Return the processed Parquet files of ``instrument`` (sorted by name).

    Parameters
    ----------
    folder_or_file
        A folder written by ``ipo-research clean`` or one ``.parquet`` file.
    instrument
        Keep only files whose metadata names this instrument (case-insensitive);
        ``None`` keeps every file.

    Raises
    ------
    ReadError
        When the path does not exist, holds no Parquet file, or none of ``instrument``.
    """
    files = _parquet_files(Path(folder_or_file))
    if instrument is None:
        return files
    return list(_of_instrument(files, instrument, Path(folder_or_file)))


def _parquet_files(path: Path) -> list[Path]:
    """The ``*.parquet`` files of a folder (sorted), or the one file given."""
    if path.is_dir():
        files = sorted(path.glob("*.parquet"))
    elif path.is_file():
        files = [path]
    else:
        raise ReadError("processed data not found", file=str(path),
                        hint="run 'ipo-research clean PROJECT' first (or 'make demo')")
    if not files:
        raise ReadError("the folder holds no processed Parquet files", file=str(path),
                        hint="run 'ipo-research clean PROJECT' to write them")
    return files


def _of_instrument(files: list[Path], instrument: str, path: Path) -> dict[Path, str | None]:
    """``{file: instrument in its metadata}`` for the files of ``instrument`` (each file's
    metadata read once)."""
    found = {f: _instrument_of(f) for f in files}
    chosen = {f: name for f, name in found.items()
              if (name or "").casefold() == instrument.casefold()}
    if not chosen:
        known = sorted({n for n in found.values() if n})
        raise ReadError(f"no processed data of instrument {instrument!r}", file=str(path),
                        hint=f"instruments found here: {', '.join(known) or 'none'}")
    return chosen


def _ordered(values: pd.Series, order: tuple[str, ...]) -> pd.Series:
    present = [v for v in pd.unique(values.dropna()) if v not in order]
    return pd.Series(pd.Categorical(values, categories=[*order, *sorted(map(str, present))]),
                     index=values.index, name=values.name)


def read_processed(folder_or_file: str | os.PathLike[str], *,
                   instrument: str | None = None) -> pd.DataFrame:
    """Read and stack the processed data of one instrument.

    Parameters
    ----------
    folder_or_file
        A folder written by ``ipo-research clean`` (every ``*.parquet`` in it) or one file.
    instrument
        Read only the files of this instrument (``"RIPLS"``, ``"ICCAS"``).  Required when the
        folder holds more than one instrument.

    Returns
    -------
    pandas.DataFrame
        One row per respondent and wave, the rows of the files in file-name order, with a
        fresh RangeIndex and these normalisations: ``export`` names the source file (its
        stem); empty strings in the context columns (:data:`CONTEXT_COLUMNS`) are missing;
        ``wave`` is a Categorical ordered ``pre``, ``post`` (other waves after them) and
        ``Niveau`` a Categorical ``mbo``, ``hbo``, so that models use the pretest and mbo as
        reference categories.  ``df.attrs["instrument"]`` names the instrument.

    Raises
    ------
    ReadError
        When the path does not exist, holds no processed data of the instrument, mixes
        instruments while ``instrument`` is ``None``, or a file cannot be read.

    Examples
    --------
    >>> from ipo_research.io import read_processed
    >>> read_processed("/nonexistent/folder")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    ReadError: processed data not found (file /nonexistent/folder). Fix: run ...
    """
    import pyarrow as pa

    path = Path(folder_or_file)
    files = _parquet_files(path)
    names = (_of_instrument(files, instrument, path) if instrument is not None
             else {f: _instrument_of(f) for f in files})
    distinct = sorted({n for n in names.values() if n})
    if instrument is None and len(distinct) > 1:
        raise ReadError(
            f"the processed data mix instruments ({', '.join(distinct)})",
            file=str(folder_or_file), context={"parameter": "instrument"},
            hint=f"pass instrument= one of {', '.join(distinct)}",
        )
    frames = []
    for file in names:
        try:
            frame = pd.read_parquet(file)
        except (OSError, ValueError, pa.ArrowException) as err:
            raise ReadError(f"cannot read the Parquet file: {err}", file=str(file),
                            hint="re-create it with 'ipo-research clean'") from err
        frame.insert(0, "export", file.stem)
        frame.attrs = {}
        frames.append(frame)
    data = pd.concat(frames, ignore_index=True, sort=False)
    for column in CONTEXT_COLUMNS:
        if column in data.columns:
            values = data[column].astype("str").str.strip()
            data[column] = values.where(values != "")
    if "wave" in data.columns:
        data["wave"] = _ordered(data["wave"], WAVE_ORDER)
    if "Niveau" in data.columns:
        data["Niveau"] = _ordered(data["Niveau"], LEVEL_ORDER)
    data.attrs = {"instrument": distinct[0] if distinct else instrument}
    return data
