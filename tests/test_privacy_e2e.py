"""End-to-end privacy audit of the whole pipeline: synthetic exports -> clean -> reports.

One session-scoped run generates the synthetic demo exports (small scale), cleans them with
a copy of ``projects/demo.yaml`` under a known key, and builds a small report plan derived
from ``plans/demo.yaml`` (one instrument report, one change report, two leerteam reports).
The tests then search every output file for what must never be there (DOMAIN.md, privacy):

* direct identifiers of the raw exports (names, e-mail addresses, student numbers, phone
  numbers, free-text answers, Qualtrics IP addresses and locations) in the processed
  Parquet files (every cell), the audit CSV/JSON, the published HTML, the executed
  notebooks, the build logs and the messages printed;
* the pseudonymisation key (bytes, hex, base64) in any output file;
* pseudonyms (64 hex digits) in published HTML;
* counts or statistics of groups smaller than the report's ``min_n``.

They also check that ``data/raw`` is left untouched and that the processed ``respondent``
column is HMAC-SHA256(key, normalised id), recomputed here with :mod:`hmac`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
import pytest
import yaml

from ipo_research.cleaning.project import run_project
from ipo_research.io import read_survey
from ipo_research.present.report import RECORD_MIME
from ipo_research.reports import Plan, load_plan
from ipo_research.reports.build import build_plan
from ipo_research.synth import write_demo

ROOT = Path(__file__).resolve().parents[1]
#: A fixed test key (never used for real data); 32 bytes that are not text.
KEY = hashlib.sha256(b"ipo-research privacy e2e test key").digest()
SEED = 2024
SCALE = 0.3
#: Survey exports of the demo folder and the read options they need.
EXPORTS: dict[str, dict[str, Any]] = {
    "ripls_zwolle.csv": {},
    "ripls_deventer.csv": {},
    "ripls_deventer_2024.sav": {},
    "ripls_qualtrics.csv": {},
    "iccas_zwolle.xlsx": {"sheet": "Resultaten"},
    "iccas_deventer.xlsx": {"sheet": "Resultaten"},
}
#: Raw columns holding direct identifiers, by kind (docs/demo_data_contract.md).
IDENTIFIER_COLUMNS: dict[str, tuple[str, ...]] = {
    "student number": ("Studentnummer", "ExternalReference"),
    "name": ("Naam",),
    "e-mail": ("E-mail", "Email", "RecipientEmail"),
    "phone": ("Telefoon",),
    "free text": ("Opmerkingen",),
    "ip address": ("IPAddress",),
    "location": ("LocationLatitude", "LocationLongitude"),
}
#: Columns whose values only identify together (first and last name).
NAME_PARTS = ("RecipientFirstName", "RecipientLastName")
_HEX64 = re.compile(r"(?<![0-9a-fA-F])[0-9a-fA-F]{64}(?![0-9a-fA-F])")
_DATA_URI = re.compile(r"data:image/[a-z+]+;base64,[A-Za-z0-9+/=\s]+")
_COUNT = r"(\d{1,3}(?:\.\d{3})+|\d+)"  # Dutch thousands separator: 1.028


# ----------------------------------------------------------------------------- helpers
def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _hash_tree(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): _sha256(p)
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _files(*folders: Path) -> list[Path]:
    return sorted(p for f in folders if f.exists() for p in f.rglob("*") if p.is_file())


def _normalise_id(value: object) -> str:
    """The documented normalisation of a respondent id: no whitespace, casefolded."""
    return "".join(str(value).split()).casefold()


def _expected_pseudonym(value: object) -> str:
    return hmac.new(KEY, _normalise_id(value).encode("utf-8"), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Identifiers:
    """Every direct identifier of the raw exports, casefolded, by kind."""

    tokens: dict[str, frozenset[str]]
    raw_ids: dict[str, list[str]]  # export file -> respondent ids as read (text)

    def all(self) -> Iterator[tuple[str, str]]:
        for kind, values in self.tokens.items():
            for value in values:
                yield kind, value


def _text_values(series: pd.Series) -> list[str]:
    out = []
    for value in series.dropna():
        text = f"{value:.4f}".rstrip("0") if isinstance(value, float) else str(value)
        text = " ".join(text.split())
        if text:
            out.append(text)
    return out


def collect_identifiers(raw: Path) -> Identifiers:
    """Read every raw export with :func:`read_survey` and collect its direct identifiers."""
    tokens: dict[str, set[str]] = {kind: set() for kind in IDENTIFIER_COLUMNS}
    raw_ids: dict[str, list[str]] = {}
    for name, options in EXPORTS.items():
        data = read_survey(raw / name, **options)
        for kind, columns in IDENTIFIER_COLUMNS.items():
            for column in columns:
                if column in data.columns:
                    tokens[kind].update(v.casefold() for v in _text_values(data[column]))
        if all(c in data.columns for c in NAME_PARTS):
            parts = data[list(NAME_PARTS)].dropna()
            tokens["name"].update(f"{a} {b}".casefold() for a, b in parts.itertuples(index=False))
            tokens["name"].update(v.casefold() for v in _text_values(data[NAME_PARTS[1]]))
        id_column = "ExternalReference" if name == "ripls_qualtrics.csv" else "Studentnummer"
        raw_ids[name] = [str(v) for v in data[id_column].dropna()]
    # forms a leak could take: student numbers without leading zeros, phones without dash
    tokens["student number"] |= {v.lstrip("0") for v in tokens["student number"]
                                 if len(v.lstrip("0")) >= 6}
    tokens["phone"] |= {re.sub(r"\D", "", v) for v in tokens["phone"]}
    return Identifiers({k: frozenset(v) for k, v in tokens.items()}, raw_ids)


def _walk_strings(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            if key in ("image/png", "image/jpeg"):
                continue  # pixels: searched as bytes for the key only
            yield from _walk_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _walk_strings(item)
    elif value is not None:
        yield str(value)


def readable_text(path: Path) -> str:
    """Everything a person could read in ``path``, unescaped and casefolded.

    Parquet: every cell, the column names and the schema metadata. JSON and notebooks: every
    string and key (HTML entities resolved). HTML: the page with entities resolved and
    embedded images removed. Other files: their text.
    """
    if path.suffix == ".parquet":
        frame = pd.read_parquet(path)
        cells = [str(c) for c in frame.columns]
        for column in frame.columns:
            cells.extend(str(v) for v in frame[column].tolist())
        metadata = pq.read_schema(path).metadata or {}
        cells.extend(v.decode("utf-8", "replace") for v in metadata.values())
        text = "\n".join(cells)
    elif path.suffix in (".json", ".ipynb"):
        raw = path.read_text(encoding="utf-8-sig")
        text = "\n".join(html.unescape(s) for s in _walk_strings(json.loads(raw)))
    elif path.suffix in (".html", ".htm"):
        text = html.unescape(_DATA_URI.sub("data:", path.read_text(encoding="utf-8")))
    else:
        text = path.read_bytes().decode("utf-8-sig", errors="replace")
    return " ".join(text.split()).casefold()


def find_identifiers(text: str, ids: Identifiers) -> list[tuple[str, str]]:
    """Identifiers of ``ids`` that occur in ``text`` as whole words (``text`` casefolded).

    A number only counts when not part of a longer number, a word or a decimal fraction,
    so that pseudonyms (hex) and scores (3.5789473684) never match by accident.
    """
    hits = []
    for kind, token in ids.all():
        start = text.find(token)
        while start >= 0:
            end = start + len(token)
            before = text[start - 1] if start else " "
            after = text[end] if end < len(text) else " "
            if not (before.isalnum() or after.isalnum() or (before == "." and token[0].isdigit())):
                hits.append((kind, token))
                break
            start = text.find(token, start + 1)
    return hits


def key_forms() -> dict[str, bytes]:
    """The key as bytes and in every text encoding a leak could use."""
    b64 = base64.b64encode(KEY)
    url = base64.urlsafe_b64encode(KEY)
    return {
        "bytes": KEY, "hex": KEY.hex().encode(), "HEX": KEY.hex().upper().encode(),
        "base64": b64, "base64 unpadded": b64.rstrip(b"="),
        "urlsafe base64": url.rstrip(b"="),
    }


# ----------------------------------------------------------------------------- pipeline
@dataclass(frozen=True)
class Pipeline:
    """Folders and results of one run of the pipeline."""

    tmp: Path
    raw: Path
    processed: Path
    reports: Path
    executed: Path
    logs: Path
    cache: Path
    cwd: Path
    plan: Plan
    raw_before: dict[str, str]
    messages: str = field(repr=False)
    ids: Identifiers = field(repr=False)

    def outputs(self) -> list[Path]:
        """Every file the pipeline wrote (all but the raw exports and the inputs we wrote)."""
        return _files(self.processed, self.reports, self.executed, self.logs, self.cache,
                      self.cwd)


def _write_project(tmp: Path) -> Path:
    project = yaml.safe_load((ROOT / "projects" / "demo.yaml").read_text(encoding="utf-8"))
    project["root"] = str(tmp)
    project["output"] = "processed"
    for export in project["exports"].values():
        export["path"] = export["path"].replace("data/raw/demo", "raw")
    path = tmp / "project.yaml"
    path.write_text(yaml.safe_dump(project, allow_unicode=True), encoding="utf-8")
    return path


def _small_teams(processed: Path) -> list[str]:
    """One Zwolle and one Deventer leerteam with fewer than 10 RIPLS respondents."""
    chosen = []
    for export in ("ripls_zwolle", "ripls_deventer"):
        data = pd.read_parquet(processed / f"{export}.parquet", columns=["respondent", "Leerteam"])
        size = data.dropna().groupby("Leerteam")["respondent"].nunique()
        small = size[(size < 10) & (size >= 2)]
        chosen.append(str(small.index.sort_values()[0]))
    return chosen


def _write_plan(tmp: Path, processed: Path, cwd: Path) -> Path:
    plan = yaml.safe_load((ROOT / "plans" / "demo.yaml").read_text(encoding="utf-8"))
    plan.update(root=str(tmp), output_dir="reports", executed_dir="build/executed",
                log_dir="build/logs", cache="build/cache/reports.json")
    plan["engine"]["recycle_after"] = 2  # exercise a kernel restart within the build
    plan["datasets"] = {k: f"processed/{Path(v).name}" for k, v in plan["datasets"].items()}
    for template in plan["templates"].values():
        template["path"] = str(ROOT / template["path"])
        template["inputs"] = ["processed/*.parquet"]
        template["cwd"] = str(cwd)
        template["params"]["data_dir"]["default"] = str(processed)
    plan["reports"] = [
        # Deventer 2021-2022 has 29 pretest and 31 posttest respondents: with min_n 30 the
        # pretest (reliability, Likert bars) must be suppressed and the posttest shown
        {"template": "instrument",
         "grid": {"instrument": ["RIPLS"], "region": ["Deventer"], "cohort": ["2021-2022"]},
         "parameters": {"min_n": 30},
         "output": "instrument/{instrument}/{region}-{cohort}.html"},
        {"template": "change", "grid": {"instrument": ["ICCAS"], "region": ["alle"]},
         "output": "verandering/{instrument}/regio-{region}.html"},
        {"template": "leerteam", "grid": {"leerteam": _small_teams(processed)},
         "output": "leerteam/{leerteam}.html"},
    ]
    path = tmp / "plan.yaml"
    path.write_text(yaml.safe_dump(plan, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> Pipeline:
    """Generate, clean and report once for all tests of this module."""
    tmp = tmp_path_factory.mktemp("privacy_e2e")
    raw = tmp / "raw"
    write_demo(raw, seed=SEED, scale=SCALE)
    raw_before = _hash_tree(raw)
    ids = collect_identifiers(raw)
    processed = tmp / "processed"
    summary_clean = run_project(_write_project(tmp), key=KEY)
    cwd = tmp / "cwd"
    cwd.mkdir()
    plan = load_plan(_write_plan(tmp, processed, cwd))
    lines: list[str] = []
    summary = build_plan(plan, force=True, workers=2, progress=False, echo=lines.append)
    assert summary.exit_code == 0, summary.lines()
    return Pipeline(
        tmp=tmp, raw=raw, processed=processed, reports=tmp / "reports",
        executed=tmp / "build" / "executed", logs=tmp / "build" / "logs",
        cache=tmp / "build" / "cache", cwd=cwd, plan=plan, raw_before=raw_before,
        messages="\n".join([summary_clean, *lines]), ids=ids,
    )


# ----------------------------------------------------------------------------- the scanner
def test_scanner_finds_identifiers_in_raw_exports(pipeline: Pipeline) -> None:
    """The search below is sound: in the raw export it finds every kind of identifier."""
    kinds = {kind for kind, values in pipeline.ids.tokens.items() if values}
    assert kinds == set(IDENTIFIER_COLUMNS)
    assert len(pipeline.ids.tokens["student number"]) > 200
    assert len(pipeline.ids.tokens["name"]) > 200
    found = {kind for kind, _ in find_identifiers(
        readable_text(pipeline.raw / "ripls_zwolle.csv"), pipeline.ids)}
    assert found == {"student number", "name", "e-mail", "phone", "free text"}
    found = {kind for kind, _ in find_identifiers(
        readable_text(pipeline.raw / "ripls_qualtrics.csv"), pipeline.ids)}
    assert {"student number", "name", "e-mail", "ip address", "location"} <= found


def test_identifier_columns_cover_the_generators_list(pipeline: Pipeline) -> None:
    """Every column the generator declares as identifying is searched for."""
    truth = json.loads((pipeline.raw / "truth" / "messiness.json").read_text(encoding="utf-8"))
    searched = {c for cols in IDENTIFIER_COLUMNS.values() for c in cols} | set(NAME_PARTS)
    for name in EXPORTS:
        assert set(truth[name]["identifier_columns"]) <= searched, name


def test_scanner_sees_through_formats(pipeline: Pipeline, tmp_path: Path) -> None:
    """Identifiers hidden in a Parquet cell, an HTML entity or a JSON escape are found."""
    name = next(t for t in sorted(pipeline.ids.tokens["name"]) if not t.isascii())
    email = sorted(pipeline.ids.tokens["e-mail"])[0]
    number = sorted(pipeline.ids.tokens["student number"])[0]
    leak = tmp_path / "leak.parquet"
    pd.DataFrame({"x": [1.5, 2.0], "y": ["a", number]}).to_parquet(leak)
    page = tmp_path / "leak.html"
    page.write_text(f"<p>{html.escape(name).encode('ascii', 'xmlcharrefreplace').decode()}</p>",
                    encoding="utf-8")
    notebook = tmp_path / "leak.ipynb"
    notebook.write_text(json.dumps({"cells": [{"outputs": [email.upper()]}]}, ensure_ascii=True),
                        encoding="utf-8")
    assert ("student number", number) in find_identifiers(readable_text(leak), pipeline.ids)
    assert ("name", name) in find_identifiers(readable_text(page), pipeline.ids)
    assert ("e-mail", email) in find_identifiers(readable_text(notebook), pipeline.ids)
    # a pseudonym or a score that contains the digits of a student number is no leak
    assert find_identifiers(f"ab{number}cd 3.{number} 1{number}", pipeline.ids) == []


# ----------------------------------------------------------------------------- identifiers
def test_pipeline_wrote_every_kind_of_output(pipeline: Pipeline) -> None:
    suffixes = {p.suffix for p in pipeline.outputs()}
    assert {".parquet", ".csv", ".json", ".html", ".ipynb"} <= suffixes
    assert len(list(pipeline.reports.rglob("*.html"))) == 5  # 4 reports and the index
    assert len(list(pipeline.executed.rglob("*.ipynb"))) == 4
    assert list(pipeline.logs.iterdir()), "the build writes a summary log"


@pytest.mark.parametrize("kind", ["parquet", "audit", "html", "ipynb", "logs", "messages"])
def test_no_direct_identifier_in_outputs(pipeline: Pipeline, kind: str) -> None:
    files = {
        "parquet": sorted(pipeline.processed.glob("*.parquet")),
        "audit": [*sorted(pipeline.processed.glob("*.audit.*")), pipeline.processed / "audit.csv"],
        "html": sorted(pipeline.reports.rglob("*.html")),
        "ipynb": sorted(pipeline.executed.rglob("*.ipynb")),
        "logs": _files(pipeline.logs, pipeline.cache),
        "messages": [],
    }[kind]
    texts: list[tuple[str, str]] = [(str(f.relative_to(pipeline.tmp)), readable_text(f))
                                    for f in files]
    if kind == "messages":
        texts = [("printed summaries", " ".join(pipeline.messages.split()).casefold())]
    assert texts
    leaks = {name: hits for name, text in texts if (hits := find_identifiers(text, pipeline.ids))}
    assert leaks == {}


def test_nothing_written_beside_the_outputs(pipeline: Pipeline) -> None:
    """Notebooks write nothing into their working folder; only known folders appear."""
    assert list(pipeline.cwd.iterdir()) == []
    assert {p.name for p in pipeline.tmp.iterdir()} == {
        "raw", "processed", "reports", "build", "cwd", "project.yaml", "plan.yaml"}


def test_published_tree_holds_only_pages(pipeline: Pipeline) -> None:
    """Executed notebooks, data and logs stay outside the published folder."""
    assert {p.suffix for p in _files(pipeline.reports)} == {".html"}


def test_published_pages_name_no_local_paths(pipeline: Pipeline) -> None:
    for page in pipeline.reports.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert str(pipeline.tmp) not in text, page
        assert "data_dir" not in text, page


def test_processed_data_has_no_identifier_columns(pipeline: Pipeline) -> None:
    """Only the pseudonym, the wave, context, items, scores and flags are kept."""
    banned = {c.casefold() for cols in IDENTIFIER_COLUMNS.values() for c in cols}
    banned |= {c.casefold() for c in NAME_PARTS}
    for file in sorted(pipeline.processed.glob("*.parquet")):
        columns = {c.casefold() for c in pq.read_schema(file).names}
        assert columns & banned == set(), file.name
        assert {"respondent", "wave"} <= columns


# ----------------------------------------------------------------------------- key, pseudonyms
def test_key_appears_in_no_output_file(pipeline: Pipeline) -> None:
    forms = key_forms()
    outputs = pipeline.outputs()
    assert len(outputs) > 20
    leaks = [(str(p.relative_to(pipeline.tmp)), form) for p in outputs
             for form, needle in forms.items() if needle in p.read_bytes()]
    assert leaks == []
    assert not any(needle.decode("latin-1") in pipeline.messages for needle in forms.values())


def test_no_pseudonym_in_published_html(pipeline: Pipeline) -> None:
    pseudonyms = set()
    for file in pipeline.processed.glob("*.parquet"):
        pseudonyms |= set(pd.read_parquet(file, columns=["respondent"])["respondent"].dropna())
    assert len(pseudonyms) > 300
    for page in pipeline.reports.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert _HEX64.findall(text) == [], page
        readable = _DATA_URI.sub("", text).lower()
        assert not any(p in readable for p in pseudonyms), page


@pytest.mark.parametrize("export", sorted(EXPORTS))
def test_respondent_is_hmac_of_normalised_id(pipeline: Pipeline, export: str) -> None:
    """``respondent`` = HMAC-SHA256(key, id without whitespace, casefolded), hex."""
    data = pd.read_parquet(pipeline.processed / f"{Path(export).stem}.parquet")
    got = set(data["respondent"])
    raw_ids = pipeline.ids.raw_ids[export]
    expected = {_expected_pseudonym(i) for i in raw_ids}
    assert got <= expected
    assert len(got) >= 0.75 * len(set(raw_ids))
    # a few known ids, with leading zeros where the export has them
    flags = pd.read_csv(pipeline.raw / "truth" / "row_flags.csv", dtype=str)
    flagged = set(flags.loc[flags["file"] == export, "Studentnummer"])
    known = [i for i in raw_ids if i not in flagged][:5]
    known += [i for i in raw_ids if i.startswith("0") and i not in flagged][:2]
    assert known
    for raw_id in known:
        assert _expected_pseudonym(raw_id) in got, raw_id
        unkeyed = hashlib.sha256(raw_id.encode()).hexdigest()
        assert unkeyed not in got
    assert data["respondent"].str.fullmatch(r"[0-9a-f]{64}").all()


# ----------------------------------------------------------------------------- raw data
def test_raw_exports_unchanged(pipeline: Pipeline) -> None:
    assert _hash_tree(pipeline.raw) == pipeline.raw_before


# ----------------------------------------------------------------------------- small cells
def _page(pipeline: Pipeline, report_id: str) -> tuple[str, int, dict[str, Any]]:
    report = next(r for r in pipeline.plan.reports if r.id == report_id)
    page = (pipeline.reports / report.output).read_text(encoding="utf-8")
    return page, int(report.parameters["min_n"]), dict(report.parameters)


def _visible_text(page: str) -> str:
    """Text and alt texts of a page, tags removed, entities resolved."""
    page = _DATA_URI.sub("", page)
    page = re.sub(r"<style.*?</style>", " ", page, flags=re.S)
    alts = " ".join(re.findall(r'alt="([^"]*)"', page))
    return html.unescape(re.sub(r"<[^>]+>", " ", page) + " " + alts)


def _as_int(count: str) -> int:
    return int(count.replace(".", ""))


def _tables(page: str) -> Iterator[tuple[list[str], list[list[str]]]]:
    """(header texts, body rows of cell texts) of every table in a page."""
    def cells(fragment: str) -> list[str]:
        found = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", fragment, flags=re.S)
        return [html.unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in found]

    for table in re.findall(r"<table.*?</table>", page, flags=re.S):
        head = re.search(r"<thead>(.*?)</thead>", table, flags=re.S)
        body = re.search(r"<tbody>(.*?)</tbody>", table, flags=re.S)
        rows = re.findall(r"<tr>(.*?)</tr>", body.group(1), flags=re.S) if body else []
        yield cells(head.group(1)) if head else [], [cells(r) for r in rows]


#: Table headers of count columns (present.report: count tables and change tables).
COUNT_HEADERS = {"n", "N", "Voormeting", "Nameting", "Beide metingen",
                 "Pretest", "Posttest", "Both waves"}
REPORT_IDS = [
    "instrument/ripls/deventer-2021-2022", "verandering/iccas/regio-alle",
]


def _all_report_ids() -> Iterable[str]:
    yield from REPORT_IDS
    yield "leerteam-0"
    yield "leerteam-1"


def _resolve(pipeline: Pipeline, report_id: str) -> str:
    if report_id.startswith("leerteam-"):
        teams = [r.id for r in pipeline.plan.reports if r.template == "leerteam"]
        return teams[int(report_id.split("-")[1])]
    return report_id


@pytest.mark.parametrize("report_id", list(_all_report_ids()))
def test_tables_show_no_count_below_min_n(pipeline: Pipeline, report_id: str) -> None:
    """In every table, each count cell (``n``, respondents per wave) is suppressed or at
    least ``min_n``."""
    page, min_n, _ = _page(pipeline, _resolve(pipeline, report_id))
    checked = suppressed = 0
    for header, rows in _tables(page):
        n_columns = [i for i, h in enumerate(header) if h in COUNT_HEADERS]
        for row in rows:
            for i in n_columns:
                cell = row[i]
                if re.fullmatch(_COUNT, cell):
                    assert _as_int(cell) >= min_n, (header, row)
                    checked += 1
                else:
                    assert cell in ("x", "—", ""), (header, row)
                    suppressed += cell == "x"
    assert checked or suppressed, "no count cell was found: the test checked nothing"


@pytest.mark.parametrize("report_id", list(_all_report_ids()))
def test_text_states_no_count_below_min_n(pipeline: Pipeline, report_id: str) -> None:
    """Sentences (not figure placeholders) state no count of a group below ``min_n``."""
    page, min_n, _ = _page(pipeline, _resolve(pipeline, report_id))
    text = _visible_text(re.sub(r'<img[^>]*>', "", page))
    counts = [_as_int(c) for c in re.findall(rf"\bn = {_COUNT}", text)]
    counts += [_as_int(c) for c in re.findall(
        rf"(?<!minder dan )(?<!fewer than )\b{_COUNT} (?:respondenten|respondents|studenten)",
        text)]
    assert all(c >= min_n for c in counts), counts


def test_figure_placeholders_state_no_count_below_min_n(pipeline: Pipeline) -> None:
    page, min_n, _ = _page(pipeline, REPORT_IDS[0])
    alts = html.unescape(" ".join(re.findall(r'alt="([^"]*)"', page)))
    assert "Niet getoond" in alts  # the pretest Likert bars are suppressed
    counts = [_as_int(c) for c in re.findall(rf"\bn = {_COUNT}", alts)]
    assert all(c >= min_n for c in counts), alts


def test_instrument_page_suppresses_the_small_wave(pipeline: Pipeline) -> None:
    """Pretest n = 29 < min_n = 30: no reliability, no pretest figure; posttest shown."""
    page, min_n, _ = _page(pipeline, REPORT_IDS[0])
    assert min_n == 30
    text = _visible_text(page)
    assert "α =" not in text and "ω" not in text
    assert "Niet getoond: minder dan 30 respondenten" in text
    assert text.count("Divergerend gestapeld staafdiagram") == 1  # posttest only
    executed = (pipeline.executed / f"{REPORT_IDS[0]}.ipynb").read_text(encoding="utf-8")
    assert '"alpha": null' in executed


@pytest.mark.parametrize("index", [0, 1])
def test_small_leerteam_page_shows_only_the_marker(pipeline: Pipeline, index: int) -> None:
    report_id = _resolve(pipeline, f"leerteam-{index}")
    page, min_n, params = _page(pipeline, report_id)
    team = str(params["leerteam"])
    text = _visible_text(page)
    assert f"minder dan {min_n} deelnemende studenten" in text
    assert f"Voor dit leerteam worden geen cijfers getoond: er zijn minder dan {min_n}" in text
    team_rows = [row for _, rows in _tables(page) for row in rows if row[0] == f"Leerteam {team}"]
    assert len(team_rows) == 1
    assert set(team_rows[0][1:]) == {"x"}  # every statistic of the team is suppressed
    assert "Onderdrukt om herleidbaarheid te voorkomen" in text
    notebook = json.loads((pipeline.executed / f"{report_id}.ipynb").read_text(encoding="utf-8"))
    records = [o["data"][RECORD_MIME] for c in notebook["cells"] for o in c.get("outputs", [])
               if RECORD_MIME in o.get("data", {})]
    merged = {k: v for r in records for k, v in r.items()}
    assert merged["team_large_enough"] is False
    assert merged["team_shown"] is False
    assert merged["team_n"] is None  # blanked, even in the audit copy
