"""Pseudonyms: HMAC-SHA256 determinism, key dependence, key files and key resolution."""

from __future__ import annotations

import hashlib
import hmac
import stat
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ipo_research.cleaning.pseudonym import (
    normalise_id,
    pseudonym,
    pseudonymise,
    read_key_file,
    resolve_key,
    write_key_file,
)
from ipo_research.cli import main
from ipo_research.errors import PrivacyError


def test_pseudonym_is_hmac_sha256_of_normalised_id(hmac_key: bytes) -> None:
    expected = hmac.new(hmac_key, b"1234567", hashlib.sha256).hexdigest()
    assert pseudonym("1234567", hmac_key) == expected
    assert pseudonym(" 1234567 ", hmac_key) == expected
    assert pseudonym(1234567.0, hmac_key) == expected
    assert pseudonym("1234567.0", hmac_key) == expected
    assert pseudonym("AB 12", hmac_key) == pseudonym("ab12", hmac_key)
    assert pseudonym(None, hmac_key) is None and pseudonym(float("nan"), hmac_key) is None
    assert normalise_id("  ") is None


def test_pseudonyms_deterministic_and_key_dependent(hmac_key: bytes) -> None:
    ids = pd.Series(["1234567", "7654321", "1234567", None])
    first = pseudonymise(ids, hmac_key)
    assert first.tolist() == pseudonymise(ids, hmac_key).tolist()
    assert first[0] == first[2] != first[1] and pd.isna(first[3])
    other = pseudonymise(ids, hmac_key + b"x")
    assert set(first.dropna()).isdisjoint(set(other.dropna()))
    unkeyed = hashlib.sha256(b"1234567").hexdigest()
    assert unkeyed not in set(first.dropna())


def test_write_key_file(tmp_path: Path) -> None:
    path = write_key_file(tmp_path / "keys" / "project.key")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    key = read_key_file(path)
    assert len(key) == 32
    assert write_key_file(tmp_path / "other.key").read_text() != path.read_text()
    with pytest.raises(PrivacyError, match="already exists and is never overwritten"):
        write_key_file(path)
    assert read_key_file(path) == key


def test_key_file_inside_git_tree_refused(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "sub").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    with pytest.raises(PrivacyError, match=r"refusing to write a key inside a git work tree"):
        write_key_file(repo / "sub" / "k.key")
    assert not (repo / "sub" / "k.key").exists()
    (repo / "sub" / "k.key").write_text("a" * 64)
    with pytest.raises(PrivacyError, match="refusing a key file inside a git work tree"):
        read_key_file(repo / "sub" / "k.key")


def test_keygen_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["keygen", str(tmp_path / "demo.key")]) == 0
    assert "new key written" in capsys.readouterr().out
    assert main(["keygen", str(tmp_path / "demo.key")]) == 2
    assert "never overwritten" in capsys.readouterr().err


def test_resolve_key_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IPO_RESEARCH_KEY", raising=False)
    monkeypatch.delenv("IPO_RESEARCH_KEY_FILE", raising=False)
    with pytest.raises(PrivacyError, match="no pseudonymisation key: cleaning refuses to run"):
        resolve_key()
    path = write_key_file(tmp_path / "k.key")
    from_file = resolve_key(key_file=path)
    assert resolve_key("ab" * 32) == bytes.fromhex("ab" * 32)
    assert resolve_key(b"x" * 20, key_file=path) == b"x" * 20
    monkeypatch.setenv("IPO_RESEARCH_KEY_FILE", str(path))
    assert resolve_key() == from_file
    monkeypatch.setenv("IPO_RESEARCH_KEY", "an environment key of some length")
    assert resolve_key() == b"an environment key of some length"
    with pytest.raises(PrivacyError, match=r"key too short \(5 bytes, need 16\)"):
        resolve_key("short")
    with pytest.raises(PrivacyError, match="key file not found"):
        resolve_key(key_file=tmp_path / "missing.key")


def test_vectorised_pseudonyms_equal_hmac_new(hmac_key: bytes) -> None:
    long_key = b"L" * 100  # longer than the SHA-256 block: hashed first, as RFC 2104 says
    ids = pd.Series([1234567, 7654321, 1234567])
    floats = pd.Series([1234567.0, None, 7654321.0])
    for key in (hmac_key, long_key):
        expected = [hmac.new(key, s.encode(), hashlib.sha256).hexdigest()
                    for s in ("1234567", "7654321", "1234567")]
        assert pseudonymise(ids, key).tolist() == expected
        got = pseudonymise(floats, key)
        assert got[0] == expected[0] and got[2] == expected[1] and pd.isna(got[1])
        text = pseudonymise(pd.Series([" 12 34567 ", "1234567.0", ""]), key)
        assert text[0] == text[1] == expected[0] and pd.isna(text[2])


# --------------------------------------------------------------------------- fast paths
def test_respondent_codes_follow_normalised_ids() -> None:
    from ipo_research.cleaning.pseudonym import respondent_codes

    text = pd.Series([" 12 34567 ", "1234567.0", "", None, "AB1", "ab1"], dtype="str")
    codes, uniques = respondent_codes(text)
    assert codes.tolist() == [0, 0, -1, -1, 1, 1]
    assert uniques.tolist() == ["1234567", "ab1"]
    ints = pd.Series([7654321, 1234567, 7654321])
    codes, uniques = respondent_codes(ints)
    assert [uniques[c] for c in codes] == ["7654321", "1234567", "7654321"]
    mixed = pd.Series([1234567, "1234567", 1234567.0, None, " X"], dtype=object)
    codes, uniques = respondent_codes(mixed)
    assert codes.tolist() == [0, 0, 0, -1, 1] and uniques.tolist() == ["1234567", "x"]


def test_hmac_table_and_arrow_pseudonyms_equal_hmac_new(hmac_key: bytes) -> None:
    from ipo_research.cleaning.pseudonym import hmac_table, pseudonym_series

    ids = ["1234567", "é-naïve", "x" * 200]
    for key in (hmac_key, b"L" * 100):
        table = hmac_table(ids, key)
        expected = [hmac.new(key, s.encode(), hashlib.sha256).hexdigest() for s in ids]
        assert [t.decode() for t in table] == expected
        series = pseudonym_series(table, np.array([2, -1, 0, 0]))
        assert str(series.dtype) == "str"
        assert series[0] == expected[2] and series[2] == series[3] == expected[0]
        assert pd.isna(series[1])
    assert pseudonym_series(hmac_table([], hmac_key), np.array([], dtype=np.int64)).empty


# --------------------------------------------------------------------------- helper process
def test_hmac_job_helper_process_equals_hmac_new(hmac_key: bytes) -> None:
    import pyarrow as pa

    from ipo_research.cleaning.pseudonym import HmacJob

    ids = ["1234567", "é-naïve", "x" * 200, "7654321", "ab1"]
    for key in (hmac_key, b"L" * 100):  # a key longer than SHA-256's block is hashed first
        expected = [hmac.new(key, s.encode(), hashlib.sha256).hexdigest() for s in ids]
        for helper in (True, False):
            for given in (pa.array(ids), pa.chunked_array([ids[:2], ids[2:]]),
                          pa.array(["pad", *ids], type=pa.large_string()).slice(1)):
                with HmacJob(given, key, helper=helper) as job:
                    table = job.result()
                assert [t.decode() for t in table] == expected


def test_hmac_job_falls_back_when_the_helper_fails(hmac_key: bytes,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil
    import sys

    import pyarrow as pa

    from ipo_research.cleaning.pseudonym import HmacJob, hmac_table

    ids = [str(i) for i in range(1000, 1300)]
    want = hmac_table(ids, hmac_key)
    # an interpreter that exits with an error, and one that does not exist
    for executable in (shutil.which("false") or "/bin/false", "/nonexistent/python"):
        monkeypatch.setattr(sys, "executable", executable)
        job = HmacJob(pa.array(ids), hmac_key, helper=True)
        assert (job.result() == want).all()
    monkeypatch.undo()
    job = HmacJob(pa.array(ids), hmac_key, helper=True)
    job.close()  # stopped before its result is read: hashed here instead
    assert (job.result() == want).all()
