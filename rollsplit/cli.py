"""The `rollsplit` command: parses arguments and calls into the packages. Nothing else lives here.

Each package contributes its subcommands through a `register(subparsers)` function in its
`commands` module; the handlers they set (`func`) return the process exit code.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from rollsplit import __version__

COMMAND_MODULES = ("reference.commands", "solver.commands", "conformance.commands")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rollsplit",
        description="Reference calculator for after-tax rollover allocation (IRC §72(e)(8), Notice 2014-54).")
    parser.add_argument("--version", action="version", version=f"rollsplit {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name != name:
                raise
            continue
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("rollsplit: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
