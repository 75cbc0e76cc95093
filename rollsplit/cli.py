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


def _parser_of(parser: argparse.ArgumentParser, args: argparse.Namespace) -> argparse.ArgumentParser:
    """The (sub)parser of the deepest subcommand the arguments chose, so its usage is the one shown."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            chosen = action.choices.get(getattr(args, action.dest, None) or "")
            if chosen is not None:
                return _parser_of(chosen, args)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:   # reported by the subcommand's own parser: its usage line, not the top level's
        _parser_of(parser, args).error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("rollsplit: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
