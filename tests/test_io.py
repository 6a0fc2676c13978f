"""Tests of ipo_research.io: survey readers (CSV/TSV/TXT, xlsx, sav, Qualtrics) and atomic writers."""

from __future__ import annotations

import hashlib
import json
import os
import stat
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ipo_research.errors import ReadError, WriteError
from ipo_research.io import (
    atomic_open,
    atomic_write_bytes,
    atomic_write_text,
    is_raw_path,
    read_survey,
    read_yaml,
    write_csv,
    write_json,
    write_parquet,
)

LABELS_NL = ["Helemaal mee oneens", "Mee oneens", "Neutraal", "Mee eens", "Helemaal mee eens"]


def _write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


# --------------------------------------------------------------------------- CSV: encodings
def test_utf8_bom_semicolon_decimal_comma(tmp_path: Path) -> None:
    text = (
        "Studentnummer;Naam;Vraag 1;Vraag 2;Duur (sec)\n"
        "0123456;José Müller;4;Mee eens;312,5\n"
        "1234567;Zoë;4,0;2;90,25\n"
        "2345678;Eva;5;4,0;1200\n"
    )
    path = _write(tmp_path / "ripls_zwolle.csv", text, "utf-8-sig")
    df = read_survey(path)
    assert list(df.columns) == ["Studentnummer", "Naam", "Vraag 1", "Vraag 2", "Duur (sec)"]
    assert df.attrs["encoding"] == "utf-8-sig"
    assert df.attrs["delimiter"] == ";" and df.attrs["decimal"] == ","
    # student numbers keep their leading zero (kept as text)
    assert df["Studentnummer"].tolist() == ["0123456", "1234567", "2345678"]
    assert df.loc[0, "Naam"] == "José Müller"
    assert df["Duur (sec)"].tolist() == [312.5, 90.25, 1200.0]
    # a column with a label stays text, exactly as read (no recoding here)
    assert df["Vraag 2"].tolist() == ["Mee eens", "2", "4,0"]
    assert df["Vraag 1"].tolist() == [4.0, 4.0, 5.0]


def test_cp1252_with_diacritics(tmp_path: Path) -> None:
    text = "Studentnummer;Naam;Vraag 1\n1234567;Renée Bröker;4\n2234567;Chloë;Mee oneens\n"
    path = _write(tmp_path / "ripls_deventer.csv", text, "cp1252")
    df = read_survey(path)
    assert df.attrs["encoding"] == "cp1252"
    assert df["Naam"].tolist() == ["Renée Bröker", "Chloë"]
    assert df["Vraag 1"].tolist() == ["4", "Mee oneens"]


def test_cp1252_after_a_long_ascii_start(tmp_path: Path) -> None:
    """Non-UTF-8 bytes after the 64 KB sample: the reader falls back to cp1252."""
    lines = ["id;naam;v1"] + [f"{i};Jan;{1 + i % 5}" for i in range(8000)] + ["9999;Chloë;3"]
    path = _write(tmp_path / "late.csv", "\n".join(lines) + "\n", "cp1252")
    assert path.stat().st_size > 64 * 1024
    df = read_survey(path)
    assert df.attrs["encoding"] == "cp1252"
    assert df["naam"].iloc[-1] == "Chloë" and len(df) == 8001


def test_explicit_encoding_wins(tmp_path: Path) -> None:
    path = _write(tmp_path / "latin.csv", "a;b\n1;é\n", "latin-1")
    df = read_survey(path, encoding="latin-1")
    assert df.attrs["encoding"] == "latin-1" and df.loc[0, "b"] == "é"


def test_utf16_with_bom(tmp_path: Path) -> None:
    path = _write(tmp_path / "u16.txt", "a\tb\n1\tzoë\n", "utf-16")
    df = read_survey(path)
    assert df.attrs["encoding"] == "utf-16" and df.attrs["delimiter"] == "\t"
    assert df.loc[0, "b"] == "zoë"


def test_undecodable_file_names_offset_and_line(tmp_path: Path) -> None:
    # 0x81 is neither UTF-8 nor cp1252
    path = tmp_path / "bad.csv"
    path.write_bytes(b"a;b\n1;2\n3;ok\x81\n")
    with pytest.raises(ReadError, match=r"cannot decode the file as UTF-8 or cp1252 at byte offset "
                       r"12 \(bytes 81\) \(file .*bad\.csv, line 3\)"):
        read_survey(path)


def test_undecodable_with_explicit_encoding(tmp_path: Path) -> None:
    path = tmp_path / "bad8.csv"
    path.write_bytes(b"a;b\n1;\xe9\n")
    with pytest.raises(ReadError, match=r"cannot decode the file as utf-8 at byte offset 6.*line 2"):
        read_survey(path, encoding="utf-8")


def test_unknown_encoding_name(tmp_path: Path) -> None:
    path = _write(tmp_path / "x.csv", "a;b\n1;2\n")
    with pytest.raises(ReadError, match=r"unknown encoding 'klingon'"):
        read_survey(path, encoding="klingon")


# --------------------------------------------------------------------------- CSV: delimiters
@pytest.mark.parametrize(
    ("name", "sep", "decimal_text", "decimal"),
    [
        ("comma.csv", ",", "1.5", "."),
        ("semi.csv", ";", "1,5", ","),
        ("semi_point.csv", ";", "1.5", "."),
        ("tab.tsv", "\t", "1,5", ","),
        ("tab.txt", "\t", "1.5", "."),
        ("pipe.txt", "|", "1.5", "."),
    ],
)
def test_delimiter_and_decimal_detected(
    tmp_path: Path, name: str, sep: str, decimal_text: str, decimal: str
) -> None:
    rows = [["Naam", "Vraag 1", "Duur"], ["Jan, de Vries" if sep != "," else "Jan", "4", decimal_text],
            ["Piet", "5", "2"]]
    text = "\n".join(sep.join(r) for r in rows) + "\n"
    df = read_survey(_write(tmp_path / name, text))
    assert df.attrs["delimiter"] == sep and df.attrs["decimal"] == decimal
    assert df.shape == (2, 3)
    assert df["Duur"].tolist() == [1.5, 2.0]


def test_quoted_delimiters_do_not_confuse_detection(tmp_path: Path) -> None:
    text = 'naam,opmerking,v1\n"Jan","goed; heel goed; echt",4\n"Piet","ok; prima",5\n'
    df = read_survey(_write(tmp_path / "q.csv", text))
    assert df.attrs["delimiter"] == ","
    assert df.loc[0, "opmerking"] == "goed; heel goed; echt"


def test_sep_and_decimal_overrides(tmp_path: Path) -> None:
    path = _write(tmp_path / "x.txt", "a;b\n1;2,5\n")
    df = read_survey(path, sep=";", decimal=".")
    assert df.loc[0, "b"] == "2,5"
    with pytest.raises(ReadError, match=r"delimiter and decimal mark are both ','"):
        read_survey(_write(tmp_path / "y.csv", "a,b\n1,2\n"), sep=",", decimal=",")


def test_text_columns_option(tmp_path: Path) -> None:
    path = _write(tmp_path / "x.csv", "id;v\n1234567;1\n2345678;2\n")
    assert read_survey(path)["id"].dtype.kind == "i"
    df = read_survey(path, text_columns=["id"])
    assert df["id"].tolist() == ["1234567", "2345678"]


def test_large_file_with_labels_late_keeps_values_without_warning(tmp_path: Path) -> None:
    import warnings

    n = 300_000  # more than one parser chunk
    text = "id;v\n" + "".join(f"{i};{1 + i % 5}\n" for i in range(n)) + "x;Mee eens\n"
    path = _write(tmp_path / "big.csv", text)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        df = read_survey(path)
    assert len(df) == n + 1
    assert df["v"].iloc[-1] == "Mee eens"
    assert [float(v) for v in df["v"].iloc[:5]] == [1.0, 2.0, 3.0, 4.0, 5.0]


def test_empty_unnamed_trailing_column_dropped(tmp_path: Path) -> None:
    path = _write(tmp_path / "trail.csv", "a;b;\n1;2;\n3;4;\n")
    df = read_survey(path)
    assert list(df.columns) == ["a", "b"]
    assert df.attrs["dropped_columns"] == ["Unnamed: 2"]


# --------------------------------------------------------------------------- Qualtrics
QUALTRICS = (
    'StartDate,Duration (in seconds),ResponseId,ExternalReference,Q1,Q2\n'
    '"Start Date","Duration (in seconds)","Response ID","External Data Reference",'
    '"Shared learning, with other students, helps me","Team-working skills are essential"\n'
    '"{""ImportId"":""startDate"",""timeZone"":""Europe/Amsterdam""}","{""ImportId"":""duration""}",'
    '"{""ImportId"":""_recordId""}","{""ImportId"":""externalDataReference""}",'
    '"{""ImportId"":""QID1""}","{""ImportId"":""QID2""}"\n'
    '2024-01-15 10:00:00,300,R_1,0123456,4,5\n'
    '2024-01-15 10:05:00,95,R_2,1234567,Agree,\n'
    '2024-01-15 10:09:00,410,R_3,2345678,2,3\n'
)


def test_qualtrics_three_row_header(tmp_path: Path) -> None:
    df = read_survey(_write(tmp_path / "ripls_qualtrics.csv", QUALTRICS))
    assert df.attrs["qualtrics"] is True
    assert len(df) == 3 and df["ResponseId"].tolist() == ["R_1", "R_2", "R_3"]
    assert df.attrs["question_texts"]["Q1"] == "Shared learning, with other students, helps me"
    assert df.attrs["import_ids"] == {
        "StartDate": "startDate", "Duration (in seconds)": "duration", "ResponseId": "_recordId",
        "ExternalReference": "externalDataReference", "Q1": "QID1", "Q2": "QID2",
    }
    assert df["Duration (in seconds)"].tolist() == [300, 95, 410]
    assert df["ExternalReference"].tolist() == ["0123456", "1234567", "2345678"]
    assert df["Q1"].tolist() == ["4", "Agree", "2"]
    # row_offset: positional row i is on line i + 4 of the file
    assert df.attrs["row_offset"] == 4
    lines = QUALTRICS.splitlines()
    for i, rid in enumerate(df["ResponseId"]):
        assert rid in lines[i + df.attrs["row_offset"] - 1]


def test_plain_csv_is_not_qualtrics(tmp_path: Path) -> None:
    df = read_survey(_write(tmp_path / "p.csv", "a,b\n1,2\n3,4\n5,6\n"))
    assert df.attrs["qualtrics"] is False and df.attrs["question_texts"] == {}
    assert df.attrs["row_offset"] == 2 and len(df) == 3


def test_ragged_line_in_qualtrics_names_file_line(tmp_path: Path) -> None:
    text = QUALTRICS + "2024-01-15 11:00:00,200,R_4,3456789,1,2,extra\n"
    with pytest.raises(ReadError, match=r"ragged line: Expected 6 fields in line 7, saw 7.*line 7"):
        read_survey(_write(tmp_path / "rag.csv", text))


# --------------------------------------------------------------------------- CSV: refused input
def test_ragged_line_is_named(tmp_path: Path) -> None:
    text = "a;b;c\n1;2;3\n4;5;6\n7;8;9;10\n"
    with pytest.raises(ReadError, match=r"ragged line: Expected 3 fields in line 4, saw 4 "
                       r"\(file .*rag\.csv, line 4\)\. Fix: every line needs the same number of "
                       r"semicolon-separated fields"):
        read_survey(_write(tmp_path / "rag.csv", text))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ReadError, match=r"file not found \(file .*nope\.csv\)"):
        read_survey(tmp_path / "nope.csv")


def test_folder_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "exports.csv"
    folder.mkdir()
    with pytest.raises(ReadError, match=r"not a file"):
        read_survey(folder)


def test_empty_file(tmp_path: Path) -> None:
    with pytest.raises(ReadError, match=r"the file is empty \(0 bytes\)"):
        read_survey(_write(tmp_path / "e.csv", ""))


def test_white_space_only_file(tmp_path: Path) -> None:
    with pytest.raises(ReadError, match=r"the file is empty \(only white space\)"):
        read_survey(_write(tmp_path / "w.csv", "\n\n  \n"))


def test_header_without_rows(tmp_path: Path) -> None:
    with pytest.raises(ReadError, match=r"has a header but no data rows"):
        read_survey(_write(tmp_path / "h.csv", "a;b;c\n"))


@pytest.mark.parametrize("name", ["export.json", "export", "export.pdf"])
def test_unknown_extension(tmp_path: Path, name: str) -> None:
    with pytest.raises(ReadError, match=r"unknown file type .*supported: \.csv, \.tsv, \.txt"):
        read_survey(_write(tmp_path / name, "a,b\n1,2\n"))


def test_old_xls_gets_a_hint(tmp_path: Path) -> None:
    with pytest.raises(ReadError, match=r"unknown file type '\.xls'.*save it as \.xlsx"):
        read_survey(_write(tmp_path / "old.xls", "x"))


def test_excel_file_named_csv(tmp_path: Path) -> None:
    real = tmp_path / "real.xlsx"
    pd.DataFrame({"a": [1]}).to_excel(real, index=False)
    fake = tmp_path / "export.csv"
    fake.write_bytes(real.read_bytes())
    with pytest.raises(ReadError, match=r"not a text file but an Excel.*rename it to \.xlsx"):
        read_survey(fake)


def test_binary_file_named_csv(tmp_path: Path) -> None:
    path = tmp_path / "bin.csv"
    path.write_bytes(b"a,b\n1,\x00\x00\n")
    with pytest.raises(ReadError, match=r"NUL bytes"):
        read_survey(path)


def test_duplicate_column_names(tmp_path: Path) -> None:
    with pytest.raises(ReadError, match=r"duplicate column name 'Vraag 1' \(columns 2 and 3\)"):
        read_survey(_write(tmp_path / "d.csv", "id;Vraag 1;Vraag 1\n1;2;3\n"))


# --------------------------------------------------------------------------- provenance
def test_provenance_attrs(tmp_path: Path) -> None:
    path = _write(tmp_path / "p.csv", "a;b\n1;2\n3;4\n")
    df = read_survey(path)
    assert df.attrs["file"] == str(path)
    assert df.attrs["format"] == "csv"
    assert df.attrs["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert df.attrs["n_rows"] == 2
    # positional row i is on line i + row_offset
    lines = path.read_text().splitlines()
    assert lines[1 + df.attrs["row_offset"] - 1] == "3;4"


def test_reader_does_not_change_the_file(tmp_path: Path) -> None:
    path = _write(tmp_path / "p.csv", "a;b\n1;2\n")
    before = (path.read_bytes(), path.stat().st_mtime_ns)
    read_survey(path)
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before


# --------------------------------------------------------------------------- Excel
def _iccas_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "Studentnummer": ["0123456", "1234567", "2345678"],
        "Meting": ["voormeting", "nameting", "nameting"],
        "Nu_1": [5, "n.v.t.", 7],
        "Voor_1": [None, 3, 4],
        "Item_21": [None, 1, 2],
    })


def test_xlsx_named_sheet(tmp_path: Path) -> None:
    path = tmp_path / "iccas_zwolle.xlsx"
    with pd.ExcelWriter(path) as writer:
        pd.DataFrame({"info": ["export van 2024"]}).to_excel(writer, sheet_name="Info", index=False)
        _iccas_frame().to_excel(writer, sheet_name="Resultaten", index=False)
    df = read_survey(path, sheet="Resultaten")
    assert df.attrs["format"] == "xlsx" and df.attrs["sheet"] == "Resultaten"
    assert df.attrs["sheets"] == ["Info", "Resultaten"] and df.attrs["row_offset"] == 2
    assert df["Studentnummer"].tolist() == ["0123456", "1234567", "2345678"]
    assert df["Nu_1"].tolist() == [5, "n.v.t.", 7]  # as read: numbers and text
    assert df["Voor_1"].isna().tolist() == [True, False, False]
    assert df["Item_21"].iloc[1] == 1
    # first sheet by default, and by number
    assert list(read_survey(path).columns) == ["info"]
    assert read_survey(path, sheet=1).attrs["sheet"] == "Resultaten"


def test_xlsx_missing_sheet_lists_sheets(tmp_path: Path) -> None:
    path = tmp_path / "x.xlsx"
    _iccas_frame().to_excel(path, sheet_name="Blad1", index=False)
    with pytest.raises(ReadError, match=r"sheet 'Resultaten' not found.*sheets in this file: Blad1"):
        read_survey(path, sheet="Resultaten")
    with pytest.raises(ReadError, match=r"sheet number 3 does not exist"):
        read_survey(path, sheet=3)


def test_xlsx_empty_sheet(tmp_path: Path) -> None:
    import openpyxl

    path = tmp_path / "empty.xlsx"
    book = openpyxl.Workbook()
    book.active.title = "Leeg"
    book.save(path)
    with pytest.raises(ReadError, match=r"sheet 'Leeg' is empty"):
        read_survey(path)


def test_unreadable_xlsx(tmp_path: Path) -> None:
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"PK\x03\x04 this is not a real zip archive")
    with pytest.raises(ReadError, match=r"cannot open the Excel file.*broken\.xlsx.*save it again"):
        read_survey(path)


def test_xlsx_duplicate_header(tmp_path: Path) -> None:
    import openpyxl

    path = tmp_path / "dup.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["id", "v1", "v1"])
    sheet.append([1, 2, 3])
    book.save(path)
    with pytest.raises(ReadError, match=r"duplicate column name 'v1'"):
        read_survey(path)


# --------------------------------------------------------------------------- SPSS
def _write_sav(path: Path) -> None:
    import pyreadstat

    frame = pd.DataFrame({
        "Studentnummer": ["0123456", "1234567", "2345678"],
        "V1": [1.0, 4.0, np.nan],
        "V2": [5.0, 2.0, 3.0],
    })
    labels = {str(i + 1): lab for i, lab in enumerate(LABELS_NL)}
    value_labels = {"V1": {float(k): v for k, v in labels.items()},
                    "V2": {float(k): v for k, v in labels.items()}}
    pyreadstat.write_sav(frame, str(path), column_labels=["Studentnummer", "Vraag 1", "Vraag 2"],
                         variable_value_labels=value_labels)


def test_sav_keeps_codes_and_value_labels(tmp_path: Path) -> None:
    path = tmp_path / "ripls_deventer_2024.sav"
    _write_sav(path)
    df = read_survey(path)
    assert df.attrs["format"] == "sav" and df.attrs["row_offset"] is None
    assert df["V1"].tolist()[:2] == [1.0, 4.0] and np.isnan(df["V1"].iloc[2])
    assert df["Studentnummer"].tolist() == ["0123456", "1234567", "2345678"]
    assert df.attrs["value_labels"]["V1"] == {1: LABELS_NL[0], 2: LABELS_NL[1], 3: LABELS_NL[2],
                                               4: LABELS_NL[3], 5: LABELS_NL[4]}
    assert df.attrs["question_texts"]["V2"] == "Vraag 2"
    assert df.attrs["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()


def test_unreadable_sav(tmp_path: Path) -> None:
    path = tmp_path / "broken.sav"
    path.write_bytes(b"$FL2 definitely not an SPSS file")
    with pytest.raises(ReadError, match=r"cannot read the SPSS file.*broken\.sav"):
        read_survey(path)


# --------------------------------------------------------------------------- YAML
def test_read_yaml(tmp_path: Path) -> None:
    path = _write(tmp_path / "p.yaml", "exports:\n  - file: a.csv\n", "utf-8-sig")
    assert read_yaml(path) == {"exports": [{"file": "a.csv"}]}
    with pytest.raises(ReadError, match=r"not valid YAML.*row 2"):
        read_yaml(_write(tmp_path / "bad.yaml", "a: 1\n  b: 2\n"))
    with pytest.raises(ReadError, match=r"file not found"):
        read_yaml(tmp_path / "none.yaml")
    bad = tmp_path / "cp.yaml"
    bad.write_bytes(b"naam: Zo\xeb\n")
    with pytest.raises(ReadError, match=r"not UTF-8 text \(byte offset 8\)"):
        read_yaml(bad)


# --------------------------------------------------------------------------- writers
def test_write_parquet_round_trip_with_attrs(tmp_path: Path) -> None:
    df = pd.DataFrame({"respondent": ["a", "b"], "q1": [1.0, np.nan], "n": [1, 2]})
    df.attrs = {"file": "x.csv", "sha256": "abc", "bad": object()}
    out = write_parquet(df, tmp_path / "processed" / "ripls.parquet")
    back = pd.read_parquet(out)
    pd.testing.assert_frame_equal(back, df, check_dtype=False)
    assert back.attrs == {"file": "x.csv", "sha256": "abc"}
    assert list(df.attrs) == ["file", "sha256", "bad"]  # the caller's frame is unchanged
    assert _leftovers(out.parent) == []


def test_write_csv_dutch_excel(tmp_path: Path) -> None:
    df = pd.DataFrame({"naam": ["Zoë"], "score": [3.25]})
    out = write_csv(df, tmp_path / "audit.csv", sep=";", decimal=",")
    assert out.read_text(encoding="utf-8") == "naam;score\nZoë;3,25\n"
    back = read_survey(out)
    assert back.loc[0, "score"] == 3.25
    with pytest.raises(WriteError, match=r"separator and decimal mark are both ','"):
        write_csv(df, tmp_path / "x.csv", sep=",", decimal=",")


def test_write_json_strict(tmp_path: Path) -> None:
    obj = {"n": np.int64(3), "mean": np.float64(np.nan), "path": Path("a/b"),
           "when": pd.Timestamp("2024-01-02"), "items": ("q1", "q2"), "arr": np.array([1, 2])}
    out = write_json(obj, tmp_path / "deep" / "summary.json")
    assert json.loads(out.read_text(encoding="utf-8")) == {
        "n": 3, "mean": None, "path": "a/b", "when": "2024-01-02T00:00:00",
        "items": ["q1", "q2"], "arr": [1, 2],
    }


def test_write_json_refuses_unknown_objects_and_keeps_old_file(tmp_path: Path) -> None:
    target = _write(tmp_path / "s.json", '{"old": true}\n')
    with pytest.raises(WriteError, match=r"cannot write this object as JSON: object has no JSON"):
        write_json({"x": object()}, target)
    assert target.read_text() == '{"old": true}\n'


def test_atomic_text_and_bytes_create_parents(tmp_path: Path) -> None:
    text_out = atomic_write_text(tmp_path / "a" / "b" / "note.txt", "héllo\n")
    assert text_out.read_bytes() == "héllo\n".encode()
    bytes_out = atomic_write_bytes(tmp_path / "c" / "blob.bin", b"\x00\x01")
    assert bytes_out.read_bytes() == b"\x00\x01"
    mode = stat.S_IMODE(bytes_out.stat().st_mode)
    umask = os.umask(0)
    os.umask(umask)
    assert mode == 0o666 & ~umask  # not the 0600 of a temporary file


def test_overwrite_keeps_permissions(tmp_path: Path) -> None:
    target = _write(tmp_path / "x.txt", "old")
    target.chmod(0o640)
    atomic_write_text(target, "new")
    assert target.read_text() == "new" and stat.S_IMODE(target.stat().st_mode) == 0o640


def test_failure_mid_write_keeps_old_file(tmp_path: Path) -> None:
    target = _write(tmp_path / "result.csv", "old,content\n")
    with pytest.raises(RuntimeError, match="disk on fire"), atomic_open(target, "w") as fh:
        fh.write("new,half")
        fh.flush()
        raise RuntimeError("disk on fire")
    assert target.read_text() == "old,content\n"
    assert _leftovers(tmp_path) == []


def test_failed_parquet_write_keeps_old_file(tmp_path: Path) -> None:
    target = tmp_path / "data.parquet"
    good = pd.DataFrame({"a": [1, 2]})
    write_parquet(good, target)
    before = target.read_bytes()
    # pyarrow cannot store a column that mixes numbers and dicts: fails during the write
    bad = pd.DataFrame({"a": pd.Series([1, {"x": 1}], dtype=object)})
    with pytest.raises(WriteError, match=r"writing failed, the previous file \(if any\) is "
                       r"unchanged.*data\.parquet"):
        write_parquet(bad, target)
    assert target.read_bytes() == before
    assert _leftovers(tmp_path) == []


def test_atomic_open_bytes_and_bad_mode(tmp_path: Path) -> None:
    with atomic_open(tmp_path / "b.bin") as fh:
        fh.write(b"abc")
    assert (tmp_path / "b.bin").read_bytes() == b"abc"
    with (pytest.raises(WriteError, match=r"mode 'a' is not supported"),
          atomic_open(tmp_path / "c.bin", "a")):
        pass


def test_target_is_a_folder(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    with pytest.raises(WriteError, match=r"the target is a folder"):
        atomic_write_text(tmp_path / "out", "x")


# --------------------------------------------------------------------------- data/raw is read-only
@pytest.mark.parametrize(
    "relative",
    ["data/raw/x.csv", "data/raw/demo/deep/x.parquet", "project/Data/Raw/x.json", "data/raw"],
)
def test_writers_refuse_data_raw(tmp_path: Path, relative: str) -> None:
    target = tmp_path / relative
    df = pd.DataFrame({"a": [1]})
    for write in (
        lambda: atomic_write_text(target, "x"),
        lambda: atomic_write_bytes(target, b"x"),
        lambda: write_csv(df, target),
        lambda: write_parquet(df, target),
        lambda: write_json({}, target),
    ):
        with pytest.raises(WriteError, match=r"refusing to write inside data/raw.*Fix: write "
                           r"derived files to data/interim or data/processed"):
            write()
    with (pytest.raises(WriteError, match=r"refusing to write inside data/raw"),
          atomic_open(target, "w") as fh):
        fh.write("x")
    assert not target.exists() or target.is_dir()


def test_relative_raw_path_and_symlink(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data" / "raw").mkdir(parents=True)
    assert is_raw_path("data/raw/a.csv") and is_raw_path("./data/../data/raw/a.csv")
    assert not is_raw_path("data/processed/a.csv") and not is_raw_path("raw/data/a.csv")
    (tmp_path / "alias").symlink_to(tmp_path / "data" / "raw")
    with pytest.raises(WriteError, match="refusing to write inside data/raw"):
        atomic_write_text("alias/sneaky.txt", "x")
    assert not (tmp_path / "data" / "raw" / "sneaky.txt").exists()


def test_allow_raw_for_generators(tmp_path: Path) -> None:
    out = atomic_write_text(tmp_path / "data" / "raw" / "demo" / "a.csv", "a\n", allow_raw=True)
    assert out.read_text() == "a\n"
