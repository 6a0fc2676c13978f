"""The ``ipo-research`` command: the only place that wires the stages together.

Each subcommand has an ``_add_<name>`` function that declares its arguments and a
``_run_<name>`` function that calls package functions.  Heavy imports happen inside the
``_run_`` functions so ``--help`` stays fast.  Errors of the toolkit (:class:`IpoError`)
and bad arguments end the program with exit code 2 and one line on stderr.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from ipo_research import __version__
from ipo_research.errors import IpoError

Runner = Callable[[argparse.Namespace], int]

#: Set this environment variable (to anything) to see the traceback of an unexpected error.
DEBUG_ENV = "IPO_RESEARCH_DEBUG"


class _Parser(argparse.ArgumentParser):
    """ArgumentParser whose errors are one line: what, where, how to fix."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}. Fix: see '{self.prog} --help'.\n")


def _existing_file(value: str) -> Path:
    path = Path(value)
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"file not found: {value}")
    return path


def _positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {value!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {number}")
    return number


# --------------------------------------------------------------------------- synth
def _add_synth(sub: Any) -> None:
    p = sub.add_parser(
        "synth",
        help="generate the synthetic demo cohorts (survey exports, registers, ground truth)",
        description="Generate seeded, deterministic synthetic cohorts into a raw-data folder.",
    )
    p.add_argument("--out", type=Path, default=Path("data/raw/demo"), help="output folder")
    p.add_argument("--seed", type=int, default=2024, help="random seed (default 2024)")
    p.add_argument(
        "--scale", type=float, default=1.0, help="multiply the number of students (default 1.0)"
    )
    p.add_argument("--force", action="store_true", help="overwrite an existing folder")
    p.set_defaults(run=_run_synth)


def _run_synth(args: argparse.Namespace) -> int:
    from ipo_research.synth import write_demo

    written = write_demo(args.out, seed=args.seed, scale=args.scale, force=args.force)
    print(f"synthetic demo data in {args.out} ({len(written)} files)")
    return 0


# --------------------------------------------------------------------------- instruments
def _add_instruments(sub: Any) -> None:
    p = sub.add_parser(
        "instruments",
        help="list built-in instruments or check a YAML definition",
        description="List the built-in instruments, or validate and show one (name or YAML path).",
    )
    p.add_argument("name", nargs="?", help="instrument name or path to a YAML file")
    p.set_defaults(run=_run_instruments)


def _run_instruments(args: argparse.Namespace) -> int:
    from ipo_research.instruments import available_instruments, load_instrument

    if args.name is None:
        for name in available_instruments():
            inst = load_instrument(name)
            subscales = ", ".join(inst.subscales) or "-"
            print(f"{inst.name:12s} {len(inst.items):3d} items  {inst.scale_min}-{inst.scale_max}"
                  f"  level {inst.kirkpatrick or '-':2s}  subscales: {subscales}")
        return 0
    inst = load_instrument(args.name)
    print(f"{inst.name}: {len(inst.items)} items, scale {inst.scale_min}-{inst.scale_max}")
    for name, items in inst.subscales.items():
        print(f"  {name}: {', '.join(items)}")
    if inst.reverse:
        print(f"  reverse-keyed: {', '.join(inst.reverse)}")
    return 0


# --------------------------------------------------------------------------- clean
def _add_clean(sub: Any) -> None:
    p = sub.add_parser(
        "clean",
        help="clean and pseudonymise the exports named in a project file",
        description=(
            "Read every export named in PROJECT (YAML), clean and pseudonymise it, and write "
            "data/processed/ (Parquet) plus the audit (CSV and JSON)."
        ),
    )
    p.add_argument("project", type=_existing_file, help="project file (YAML)")
    p.add_argument("--key-file", type=Path, default=None,
                   help="file holding the pseudonymisation key (default: $IPO_RESEARCH_KEY)")
    p.add_argument("--out", type=Path, default=None, help="output folder (default: from project)")
    p.set_defaults(run=_run_clean)


def _run_clean(args: argparse.Namespace) -> int:
    from ipo_research.cleaning.project import run_project

    summary = run_project(args.project, key_file=args.key_file, out=args.out)
    print(summary)
    return 0


# --------------------------------------------------------------------------- reports
def _add_reports(sub: Any) -> None:
    p = sub.add_parser(
        "reports", help="plan and build parameterised reports",
        description="Plan and build the parameterised report notebooks with papermill.",
    )
    rsub = p.add_subparsers(dest="reports_command", required=True, parser_class=_Parser)
    plan = rsub.add_parser("plan", help="list the reports a plan would build, without running")
    plan.add_argument("plan", type=_existing_file, help="report plan (YAML)")
    plan.add_argument("--json", action="store_true", help="print JSON")
    plan.set_defaults(run=_run_reports_plan)
    build = rsub.add_parser("build", help="build the reports of a plan")
    build.add_argument("plan", type=_existing_file, help="report plan (YAML)")
    build.add_argument("--force", action="store_true", help="rebuild every report")
    build.add_argument("--workers", type=_positive_int, default=None,
                       help="parallel workers (default: all cores)")
    build.add_argument("--scheduler", default=None,
                       help="address of an existing Dask distributed scheduler")
    build.add_argument("--no-progress", action="store_true", help="no progress bar")
    build.set_defaults(run=_run_reports_build)


def _run_reports_plan(args: argparse.Namespace) -> int:
    from ipo_research.reports import cli_plan

    return cli_plan(args)


def _run_reports_build(args: argparse.Namespace) -> int:
    from ipo_research.reports import cli_build

    return cli_build(args)


# --------------------------------------------------------------------------- keygen
def _add_keygen(sub: Any) -> None:
    p = sub.add_parser(
        "keygen",
        help="create a pseudonymisation key file (outside the repository)",
        description=(
            "Write a new random HMAC key to KEY_FILE (mode 0600). Refuses to overwrite an "
            "existing key and refuses paths inside a git repository."
        ),
    )
    p.add_argument("key_file", type=Path, help="where to write the key")
    p.set_defaults(run=_run_keygen)


def _run_keygen(args: argparse.Namespace) -> int:
    from ipo_research.cleaning.pseudonym import write_key_file

    write_key_file(args.key_file)
    print(f"new key written to {args.key_file}; keep it apart from the data")
    return 0


# --------------------------------------------------------------------------- main
_SUBCOMMANDS: tuple[Callable[[Any], None], ...] = (
    _add_synth, _add_instruments, _add_keygen, _add_clean, _add_reports,
)


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of ``ipo-research``."""
    parser = _Parser(
        prog="ipo-research",
        description="Research and curriculum-evaluation toolkit for interprofessional education.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for add in _SUBCOMMANDS:
        add(sub)
    return parser


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _input_named(args: argparse.Namespace) -> str:
    """The file or name the subcommand was given, for a message about an unexpected error."""
    for name in ("project", "plan", "name", "key_file", "out"):
        value = getattr(args, name, None)
        if value is not None:
            return str(value)
    return "the input"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code.

    Every error ends the program with exit code 2 and one line on stderr (what, where,
    ``Fix:``).  An unexpected exception (input that slipped past validation) gets the same
    one line; set ``$IPO_RESEARCH_DEBUG`` to see its traceback instead.
    """
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:  # name the subcommand whose --help lists the valid options
        prog = " ".join([parser.prog, args.command, getattr(args, "reports_command", None) or ""])
        parser.exit(2, f"{prog.strip()}: error: unrecognized arguments: {' '.join(extra)}. "
                       f"Fix: see '{prog.strip()} --help'.\n")
    run: Runner = args.run
    try:
        return run(args)
    except IpoError as err:
        message = _one_line(str(err))
        if "Fix:" not in message:
            message += f". Fix: correct what is named above (see 'ipo-research {args.command} --help')"
        print(f"ipo-research {args.command}: error: {message}", file=sys.stderr)
        return 2
    except OSError as err:  # a file system problem outside the toolkit's own checks
        where = f" ({err.filename})" if err.filename else ""
        print(f"ipo-research {args.command}: error: {err.strerror or err}{where}. "
              "Fix: check the path and its permissions.", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("ipo-research: interrupted", file=sys.stderr)
        return 130
    except Exception as err:  # ill-typed input that slipped past validation: never a traceback
        if os.environ.get(DEBUG_ENV):
            raise
        print(f"ipo-research {args.command}: error: unexpected {type(err).__name__} "
              f"({_one_line(str(err))}) while processing {_input_named(args)}. Fix: check the "
              "structure and types in that file (mappings, lists, numbers) against its "
              f"documentation; if it is right, report a bug (set {DEBUG_ENV}=1 for the traceback)",
              file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
