"""The demo folder on disk: :func:`render_files` and :func:`write_demo`.

The folder layout is the contract in ``docs/demo_data_contract.md``.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pandas as pd

from ipo_research.errors import WriteError
from ipo_research.io.readers import file_sha256
from ipo_research.io.writers import atomic_write_bytes
from ipo_research.synth.cohort import (
    GENERATOR,
    GENERATOR_VERSION,
    SyntheticCohort,
    check_settings,
    generate,
)
from ipo_research.synth.messiness import (
    EXPORTS,
    RIPLS_LABELS,
    SAV_USER_MISSING,
    SAV_USER_MISSING_LABEL,
    Export,
    qualtrics_header_rows,
)
from ipo_research.synth.writers import (
    csv_bytes,
    json_bytes,
    qualtrics_bytes,
    sav_bytes,
    xlsx_bytes,
)

MANIFEST = "MANIFEST.json"
SHEET = "Resultaten"
#: Every file the generator writes besides the manifest (relative, ``/``-separated).
FILE_NAMES: tuple[str, ...] = (
    *(spec.name for spec in EXPORTS), "curriculum.csv", "participation.csv", "leerteams.csv",
    "truth/parameters.json", "truth/messiness.json", "truth/students.csv", "truth/row_flags.csv",
)


def _foreign_files(out: Path) -> list[str]:
    """Files in ``out`` that the generator does not write (ignores temporary files)."""
    known = {*FILE_NAMES, MANIFEST, ".gitkeep"}
    found = []
    for path in out.rglob("*"):
        rel = path.relative_to(out).as_posix()
        if path.is_file() and rel not in known and not path.name.endswith(".tmp"):
            found.append(rel)
    return sorted(found)


def _export_bytes(export: Export) -> bytes:
    spec, table = export.spec, export.table
    if spec.fmt == "csv":
        return csv_bytes(table, encoding=spec.encoding)
    if spec.fmt == "qualtrics":
        texts, imports = qualtrics_header_rows(list(table.columns))
        return qualtrics_bytes(table, texts, imports)
    if spec.fmt == "xlsx":
        return xlsx_bytes(table, sheet=SHEET)
    items = [c for c in table.columns if c.startswith("V") and c[1:].isdigit()]
    labels = {v: i + 1 for i, v in enumerate(RIPLS_LABELS)}
    value_labels: dict[str, dict[int | float, str]] = {c: {**{k: lab for lab, k in labels.items()},
                        SAV_USER_MISSING: SAV_USER_MISSING_LABEL} for c in items}
    column_labels = {"Email": "E-mail", "Duur_sec": "Duur (sec)",
                     **{c: f"Vraag {c[1:]}" for c in items}}
    return sav_bytes(table, column_labels=column_labels, value_labels=value_labels,
                     missing={c: [SAV_USER_MISSING] for c in items},
                     file_label="RIPLS Deventer cohort 2023-2024")


def _register_csv(frame: pd.DataFrame) -> bytes:
    return csv_bytes(frame.astype(str), encoding="utf-8")


def render_files(cohort: SyntheticCohort) -> dict[str, bytes]:
    """Return every file of the demo folder (except the manifest) as bytes.

    Parameters
    ----------
    cohort
        From :func:`~ipo_research.synth.generate`.

    Returns
    -------
    dict
        Relative path (``/``-separated) -> content.
    """
    files = {name: _export_bytes(ex) for name, ex in cohort.exports.items()}
    files["curriculum.csv"] = _register_csv(cohort.curriculum)
    files["participation.csv"] = _register_csv(cohort.participation)
    files["leerteams.csv"] = _register_csv(cohort.leerteams)
    files["truth/parameters.json"] = json_bytes(dict(cohort.truth.parameters))
    files["truth/messiness.json"] = json_bytes({k: dict(v)
                                                for k, v in cohort.truth.messiness.items()})
    files["truth/students.csv"] = cohort.truth.students.to_csv(
        index=False, lineterminator="\n").encode("utf-8")
    files["truth/row_flags.csv"] = cohort.truth.row_flags.to_csv(
        index=False, lineterminator="\n").encode("utf-8")
    return files


def _read_manifest(out: Path) -> dict[str, Any] | None:
    path = out / MANIFEST
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise WriteError(f"cannot read the existing manifest: {err}", file=str(path),
                         hint="remove the folder or pass force=True (CLI: --force)") from err
    return data if isinstance(data, dict) else None


def _same_run(manifest: dict[str, Any], seed: int, scale: float) -> bool:
    return (manifest.get("generator") == GENERATOR
            and manifest.get("version") == GENERATOR_VERSION
            and manifest.get("seed") == seed and manifest.get("scale") == float(scale))


def _intact(out: Path, manifest: dict[str, Any]) -> list[Path] | None:
    """Paths of the manifest's files when all exist with their recorded hash, else None."""
    paths = []
    for rel, meta in sorted(manifest.get("files", {}).items()):
        path = out / rel
        if not path.is_file() or path.stat().st_size != meta.get("bytes"):
            return None
        if file_sha256(path) != meta.get("sha256"):
            return None
        paths.append(path)
    return paths


def write_demo(out: Path, *, seed: int = 2024, scale: float = 1.0,
               force: bool = False) -> list[Path]:
    """Write the synthetic demo folder (survey exports, registers, ground truth, manifest).

    A second call with the same settings finds ``MANIFEST.json``, checks the files'
    SHA-256 and returns at once without rewriting.  A folder made with other settings,
    altered files, or a non-empty folder without a manifest is never overwritten unless
    ``force`` is given; with ``force``, files of the previous manifest that the new run
    does not write are removed (other files in the folder are left alone).

    Parameters
    ----------
    out
        Destination folder (created when missing), e.g. ``data/raw/demo``.
    seed
        Random seed (whole number >= 0).
    scale
        Multiplies the number of students (see :func:`~ipo_research.synth.generate`).
    force
        Overwrite a folder made with other settings.

    Returns
    -------
    list of pathlib.Path
        The files of the folder, ``MANIFEST.json`` last.

    Raises
    ------
    WriteError
        When the folder holds other data and ``force`` is not given, or writing fails.
    SynthError
        When ``seed`` or ``scale`` is unusable.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from ipo_research.synth import write_demo
    >>> folder = pathlib.Path(tempfile.mkdtemp()) / "demo"
    >>> paths = write_demo(folder, seed=7, scale=0.2)
    >>> paths[-1].name
    'MANIFEST.json'
    >>> write_demo(folder, seed=7, scale=0.2) == paths  # second run: nothing rewritten
    True
    """
    check_settings(seed, scale)
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise WriteError("the output path is a file, not a folder", file=str(out),
                         hint="choose another --out")
    old = _read_manifest(out)
    if old is not None and _same_run(old, seed, scale):
        paths = _intact(out, old)
        if paths is not None:
            return [*paths, out / MANIFEST]
        if not force:
            raise WriteError(
                "the demo folder was altered after it was generated (a file is missing or "
                "its SHA-256 differs from MANIFEST.json)", file=str(out),
                hint="pass force=True (CLI: --force) to regenerate it")
    elif old is not None and not force:
        raise WriteError(
            f"the folder holds demo data made with other settings (seed {old.get('seed')}, "
            f"scale {old.get('scale')}, generator version {old.get('version')}); asked for "
            f"seed {seed}, scale {float(scale)}, version {GENERATOR_VERSION}", file=str(out),
            hint="pass force=True (CLI: --force) to overwrite it, or choose another --out")
    elif old is None and out.is_dir() and not force:
        foreign = _foreign_files(out)
        if foreign:
            raise WriteError(
                f"the folder has no MANIFEST.json and holds files the generator does not "
                f"write ({', '.join(foreign[:3])}{', ...' if len(foreign) > 3 else ''})",
                file=str(out),
                hint="choose an empty or new --out, or pass force=True (CLI: --force)")

    files = render_files(generate(seed=seed, scale=scale))
    if sorted(files) != sorted(FILE_NAMES):  # pragma: no cover - guards FILE_NAMES
        raise WriteError("internal: FILE_NAMES does not match the files rendered",
                         hint="update ipo_research.synth.demo.FILE_NAMES")
    manifest_path = out / MANIFEST
    if manifest_path.exists():  # an interrupted write must not look complete
        manifest_path.unlink()
    paths = []
    for rel, data in sorted(files.items()):
        path = out / rel
        atomic_write_bytes(path, data, allow_raw=True)
        paths.append(path)
    if old is not None:
        for rel in old.get("files", {}):
            stale = out / rel
            if rel not in files and stale.is_file() and stale.resolve().is_relative_to(
                    out.resolve()):
                stale.unlink()
    manifest = {
        "generator": GENERATOR, "version": GENERATOR_VERSION, "seed": int(seed),
        "scale": float(scale),
        "files": {rel: {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
                  for rel, data in sorted(files.items())},
    }
    atomic_write_bytes(manifest_path, json_bytes(manifest), allow_raw=True)
    return [*paths, manifest_path]

