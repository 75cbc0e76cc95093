"""The `rollsplit` command: parses arguments and calls into the packages. Nothing else lives here.

Each package contributes its subcommands through a `register(subparsers)` function in its
`commands` module; the handlers they set (`func`) return the process exit code.
"""

from __future__ import annotations

import argparse
import importlib
import sys

import rollsplit

COMMAND_MODULES = ("rollsplit.reference.commands", "rollsplit.solver.commands", "rollsplit.conformance.commands")
# The answering commands parse with their own module's parser alone: `rollsplit allocate --json` and `rollsplit serve`
# start as adapters, once per request for a one-shot adapter, and the other packages' commands (the prover's, the
# runner's) import what answering never needs (tests/test_startup.py lists what may not be imported).
ANSWERING = {"allocate": "rollsplit.reference.commands", "serve": "rollsplit.reference.commands"}


class _VersionAction(argparse.Action):
    """--version: the package, the wire contract and the bundled suite (read only when asked for)."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, help=None):
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        print(rollsplit.version_line())
        parser.exit()


def build_parser(modules: tuple[str, ...] = COMMAND_MODULES) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rollsplit",
        description="Reference calculator for after-tax rollover allocation (IRC §72(e)(8), Notice 2014-54).")
    parser.add_argument("--version", action=_VersionAction,
                        help="print the package, wire contract and bundled suite versions and exit")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in modules:
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
    first = (sys.argv[1:] if argv is None else argv)[:1]
    parser = build_parser((ANSWERING[first[0]],) if first and first[0] in ANSWERING else COMMAND_MODULES)
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
