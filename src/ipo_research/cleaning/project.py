"""Project files: clean every export a project names, all or nothing.

A project file (YAML) names the exports of one evaluation, their instruments and column
mappings; :func:`run_project` (``ipo-research clean PROJECT``) reads, cleans and validates
every export in memory first and only then writes ``<out>/<export>.parquet``,
``<out>/<export>.audit.csv`` and ``<out>/<export>.audit.json`` plus a combined
``<out>/audit.csv``.  The output folder is written as a whole: the files go to a staging
folder beside it that replaces the old folder in one step, so a failed run leaves the
previous output untouched.  ``data/raw`` is never written.  The format is documented in
``docs/cleaning.md``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ipo_research.cleaning.core import CleaningResult, clean, item_columns
from ipo_research.cleaning.pseudonym import resolve_key
from ipo_research.cleaning.rules import CleaningRules
from ipo_research.errors import CleaningError, WriteError

_PROJECT_KEYS = ("name", "description", "root", "output", "defaults", "exports")
_EXPORT_KEYS = (
    "path", "instrument", "sheet", "encoding", "sep", "decimal", "respondent", "wave",
    "wave_value", "items", "retro_items", "columns", "rules",
)
_ROOT_MARKERS = (".git", "pyproject.toml")


@dataclass(frozen=True)
class ExportSpec:
    """One export of a project, with paths resolved against the project root."""

    name: str
    path: Path
    instrument: str
    respondent: str
    wave: str | None
    wave_value: str | None
    items: str | None
    retro_items: str | None
    columns: Mapping[str, str]
    rules: CleaningRules
    read_options: Mapping[str, Any]


def _fail(what: str, file: Path, key: str | None = None, hint: str | None = None) -> CleaningError:
    return CleaningError(what, file=str(file), hint=hint,
                         context={"key": key} if key is not None else {})


def _check_keys(data: Mapping[str, Any], allowed: tuple[str, ...], file: Path, prefix: str) -> None:
    for key in data:
        if key not in allowed:
            raise _fail(f"unknown key '{prefix}{key}' in project file", file, f"{prefix}{key}",
                        f"valid keys here: {', '.join(allowed)}")


def project_root(project: Path, data: Mapping[str, Any]) -> Path:
    """Folder that the paths in a project file are relative to.

    ``root:`` in the file (relative to the file's folder) wins; otherwise the nearest
    folder, from the file's own upwards, holding ``.git`` or ``pyproject.toml``; otherwise
    the file's folder.
    """
    here = project.resolve().parent
    if data.get("root") is not None:
        return (here / str(data["root"])).resolve()
    for folder in [here, *here.parents]:
        if any((folder / marker).exists() for marker in _ROOT_MARKERS):
            return folder
    return here


def load_project(project: str | os.PathLike[str]) -> tuple[str, Path, Path, list[ExportSpec]]:
    """Parse and check a project file without reading any export.

    Returns
    -------
    name, root, output, exports
        The project name, its root folder, the default output folder and the exports.

    Raises
    ------
    CleaningError
        Unknown or missing keys, wrong types (the message names the key).
    """
    from ipo_research.io import read_yaml

    file = Path(project)
    data = read_yaml(file)
    if not isinstance(data, Mapping):
        raise _fail("a project file must be a mapping with 'name' and 'exports'", file,
                    hint="start with 'name: my-project'")
    _check_keys(data, _PROJECT_KEYS, file, "")
    name = str(data.get("name") or file.stem).strip()
    if not name or "/" in name or name.startswith("."):
        raise _fail(f"project name {name!r} cannot name a folder", file, "name")
    root = project_root(file, data)
    output = root / str(data.get("output") or Path("data/processed") / name)
    defaults = data.get("defaults") or {}
    if not isinstance(defaults, Mapping):
        raise _fail("'defaults' must be a mapping", file, "defaults")
    _check_keys(defaults, _EXPORT_KEYS, file, "defaults.")
    exports = data.get("exports")
    if not isinstance(exports, Mapping) or not exports:
        raise _fail("'exports' must map export names to their settings", file, "exports",
                    "write 'exports: {ripls_zwolle: {path: ..., instrument: RIPLS, ...}}'")
    specs = [_export_spec(str(k), v, defaults, root, file) for k, v in exports.items()]
    return name, root, output, specs


def _export_spec(
    name: str, raw: Any, defaults: Mapping[str, Any], root: Path, file: Path
) -> ExportSpec:
    prefix = f"exports.{name}."
    if not isinstance(raw, Mapping):
        raise _fail(f"export '{name}' must be a mapping of settings", file, f"exports.{name}")
    if not name or "/" in name or name.startswith("."):
        raise _fail(f"export name {name!r} cannot name a file", file, f"exports.{name}")
    _check_keys(raw, _EXPORT_KEYS, file, prefix)
    merged: dict[str, Any] = {**defaults, **raw}
    rule_opts = {**(defaults.get("rules") or {}), **(raw.get("rules") or {})}
    for key in ("path", "instrument", "respondent"):
        if not merged.get(key):
            raise _fail(f"export '{name}' has no '{key}'", file, prefix + key)
    if not merged.get("wave") and not merged.get("wave_value"):
        raise _fail(f"export '{name}' has neither 'wave' nor 'wave_value'", file, prefix + "wave",
                    "name the wave column, or give the wave of a one-wave export")
    columns = merged.get("columns") or {}
    if not isinstance(columns, Mapping):
        raise _fail("'columns' must map raw column names to output names", file,
                    prefix + "columns", "write 'columns: {\"Vraag 1\": q1}'")
    rules = CleaningRules.from_mapping(rule_opts, where=str(file))
    instrument = str(merged["instrument"])
    if instrument.endswith((".yaml", ".yml")):
        instrument = str((root / instrument).resolve())
    read_options = {
        k: merged[k] for k in ("sheet", "encoding", "sep", "decimal") if merged.get(k) is not None
    }
    return ExportSpec(
        name=name,
        path=(root / str(merged["path"])).resolve(),
        instrument=instrument,
        respondent=str(merged["respondent"]),
        wave=str(merged["wave"]) if merged.get("wave") else None,
        wave_value=str(merged["wave_value"]) if merged.get("wave_value") else None,
        items=str(merged["items"]) if merged.get("items") else None,
        retro_items=str(merged["retro_items"]) if merged.get("retro_items") else None,
        columns={str(k): str(v) for k, v in columns.items()},
        rules=rules,
        read_options=read_options,
    )


def _mapping(spec: ExportSpec, raw: pd.DataFrame, inst: Any, retro: str) -> dict[str, str]:
    """Expand the ``items``/``retro_items`` templates and add explicit ``columns``."""
    explicit = dict(spec.columns)
    taken = set(explicit.values())
    mapping: dict[str, str] = {}
    present = {str(c) for c in raw.columns}
    if spec.items:
        for raw_name, item in item_columns(spec.items, inst).items():
            if item not in taken:
                mapping[raw_name] = item
    if spec.retro_items:
        retro_map = item_columns(spec.retro_items, inst, suffix=retro)
        found = {k: v for k, v in retro_map.items() if k in present and v not in taken}
        if not found:
            raise CleaningError(
                f"no column matches retro_items {spec.retro_items!r}", file=str(spec.path),
                column=next(iter(retro_map)), hint="check the template against the export",
            )
        mapping.update(found)
    mapping.update(explicit)
    return mapping


def clean_export(spec: ExportSpec, key: bytes) -> tuple[CleaningResult, dict[str, Any]]:
    """Read and clean one export of a project (nothing is written)."""
    from ipo_research.instruments import load_instrument
    from ipo_research.io import read_survey

    inst = load_instrument(spec.instrument)
    raw = read_survey(spec.path, **dict(spec.read_options))
    retro = spec.rules.retro_suffix or inst.retrospective.get("before") or "_retro"
    result = clean(
        raw, inst, respondent=spec.respondent, wave=spec.wave, wave_value=spec.wave_value,
        columns=_mapping(spec, raw, inst, retro), key=key, rules=spec.rules,
        source=str(spec.path),
    )
    reader = {k: raw.attrs.get(k) for k in ("format", "sha256", "encoding", "delimiter",
                                            "decimal", "sheet", "qualtrics")}
    return result, reader


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def run_project(
    project: str | os.PathLike[str],
    *,
    key_file: str | os.PathLike[str] | None = None,
    out: str | os.PathLike[str] | None = None,
    key: bytes | str | None = None,
) -> str:
    """Clean every export of a project file and write the results, all or nothing.

    Parameters
    ----------
    project
        The project file (YAML; format in ``docs/cleaning.md``).
    key_file
        File holding the pseudonymisation key; default ``$IPO_RESEARCH_KEY`` or
        ``$IPO_RESEARCH_KEY_FILE``.
    out
        Output folder; default the project's ``output`` (``data/processed/<name>``).
    key
        The key itself (for notebooks and tests; the CLI uses a key file).

    Returns
    -------
    str
        A short summary: one line per export with rows kept and dropped.

    Raises
    ------
    PrivacyError
        No key (checked before anything is read).
    CleaningError, ReadError, InstrumentError, SchemaError
        Any export fails: nothing is written.
    WriteError
        The output folder lies in ``data/raw`` or cannot be written.
    """
    from ipo_research import __version__
    from ipo_research.io import check_writable, write_csv, write_json, write_parquet

    secret = resolve_key(key, key_file=key_file)
    file = Path(project)
    name, root, default_out, specs = load_project(file)
    target = Path(out) if out is not None else default_out
    check_writable(target / "audit.csv")  # refuses data/raw before any work

    results: list[tuple[ExportSpec, CleaningResult, dict[str, Any]]] = []
    for spec in specs:
        result, reader = clean_export(spec, secret)
        results.append((spec, result, reader))

    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".staging",
                                    dir=target.parent))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(staging, 0o777 & ~umask)
    try:
        audits = []
        for spec, result, reader in results:
            data = result.data.copy(deep=False)
            data.attrs = {"project": name, "export": spec.name,
                          "instrument": result.provenance["instrument"]}
            write_parquet(data, staging / f"{spec.name}.parquet")
            write_csv(result.audit, staging / f"{spec.name}.audit.csv")
            provenance = {
                **dict(result.provenance),
                "source": _relative(spec.path, root),
                "reader": reader,
                "project": name,
                "export": spec.name,
                "package_version": __version__,
            }
            write_json(
                {"provenance": provenance, "audit": result.audit.to_dict(orient="records")},
                staging / f"{spec.name}.audit.json",
            )
            audits.append(result.audit.assign(export=spec.name))
        combined = pd.concat(audits, ignore_index=True)
        combined = combined[["export", *[c for c in combined.columns if c != "export"]]]
        write_csv(combined, staging / "audit.csv")
        _swap(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    lines = [f"cleaned {len(results)} exports of project {name!r} into {target}"]
    for spec, result, _ in results:
        dropped = int(result.audit["rows_dropped"].sum())
        lines.append(f"  {spec.name}: {len(result.data)} rows kept, {dropped} dropped "
                     f"({result.provenance['instrument']})")
    return "\n".join(lines)


def _swap(staging: Path, target: Path) -> None:
    """Replace ``target`` by ``staging`` (two renames; the old folder is removed after)."""
    old: Path | None = None
    try:
        if target.exists():
            if not target.is_dir():
                raise WriteError("the output path is a file", file=str(target),
                                 hint="give a folder for the cleaned data")
            old = target.with_name(f".{target.name}.old-{os.getpid()}")
            os.replace(target, old)
        os.replace(staging, target)
    except OSError as err:
        if old is not None and not target.exists():
            os.replace(old, target)
        raise WriteError(f"cannot move the cleaned data into place: {err.strerror}",
                         file=str(target)) from err
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
