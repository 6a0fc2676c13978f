"""The ipo-research command: help for every subcommand, one-line errors."""

from __future__ import annotations

import pytest

from ipo_research.cli import build_parser, main


def _subcommands() -> list[list[str]]:
    parser = build_parser()
    action = next(a for a in parser._actions if a.dest == "command")
    names = [[name] for name in action.choices]  # type: ignore[union-attr]
    return [*names, ["reports", "plan"], ["reports", "build"]]


@pytest.mark.parametrize("argv", _subcommands(), ids=" ".join)
def test_every_subcommand_has_help(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main([*argv, "--help"])
    assert exc.value.code == 0
    assert "usage: ipo-research" in capsys.readouterr().out


def test_unknown_option_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["synth", "--no-such-option"])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "unrecognized arguments: --no-such-option" in err
    assert "Fix:" in err


def test_missing_file_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["clean", "does/not/exist.yaml"])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "file not found: does/not/exist.yaml" in err


def test_wrong_type_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["synth", "--seed", "abc"])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "invalid int value: 'abc'" in err
