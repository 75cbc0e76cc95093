"""The vendor guide's examples are re-run and print what the guide says, counts included (issue 15).

Every ```console block of conformance/README.md is a list of commands (`$ ...`), each followed by what it prints on
stdout: a line `...` stands for any number of lines, `...` inside a line for any text, and a last line `[exit N]`
for the exit status (0 when there is none). The blocks run in order in one directory (the walkthrough's later steps
read the reports of the earlier ones), with `rollsplit` and `python` on PATH as this interpreter. The counts the
guide states about the suite in its prose are checked against the bundled suite.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from rollsplit.conformance import suite
from reference_helpers import guide_workspace

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "conformance" / "README.md"
TEXT = GUIDE.read_text(encoding="utf-8")
EXIT = re.compile(r"^\[exit (\d+)\]$")


def console_blocks(text: str) -> list[list[tuple[str, list[str], int]]]:
    """Each console block as [(command, expected stdout lines, expected exit status)]."""
    blocks = []
    for body in re.findall(r"^```console\n(.*?)^```$", text, re.S | re.M):
        commands: list[tuple[str, list[str], int]] = []
        for line in body.splitlines():
            if line.startswith("$ "):
                commands.append((line[2:], [], 0))
                continue
            assert commands, f"output before any command in a console block: {line!r}"
            command, expected, status = commands[-1]
            m = EXIT.match(line)
            if m:
                commands[-1] = (command, expected, int(m.group(1)))
            else:
                expected.append(line)
        blocks.append(commands)
    return blocks


BLOCKS = console_blocks(TEXT)


def output_matches(expected: list[str], actual: str) -> bool:
    """`expected` (lines, with `...` wildcards) against the whole of `actual`."""
    pattern = ""
    for line in expected:
        line = line.rstrip()
        if line.strip() == "...":
            pattern += r"(?:[^\n]*\n)*?"
        else:
            pattern += "[^\n]*?".join(re.escape(part) for part in line.split("...")) + r"\n"
    lines = [x.rstrip() for x in actual.splitlines()]
    return re.fullmatch(pattern, "".join(x + "\n" for x in lines)) is not None


def test_the_matcher():
    assert output_matches(["a", "...", "z ... end"], "a\nb\nc\nz 42 x end\n")
    assert output_matches(["", "a"], "\na\n")
    assert not output_matches(["593 passed"], "594 passed\n")
    assert not output_matches(["a", "b"], "a\nb\nc\n")
    assert console_blocks("```console\n$ x y\nout\n[exit 1]\n```\n") == [[("x y", ["out"], 1)]]


def test_the_guide_walks_a_vendor_through():
    walk = TEXT[TEXT.index("## Walkthrough"):TEXT.index("## The adapter protocols")]
    commands = [c for block in console_blocks(walk) for c, _, _ in block]
    for needed in ("conformance run --report-json v1.jsonl --write-expectations", "conformance show ",
                   "--expected-failures known-failures.txt", "conformance diff v1.jsonl v2.jsonl",
                   "conformance compare v1.jsonl v2.jsonl --html", "conformance run -i ", "conformance inspect ",
                   "conformance check records.jsonl"):
        assert any(needed in c for c in commands), needed
    assert all(expected for block in BLOCKS for _, expected, _ in block)


def test_the_prose_states_the_suite_as_it_is():
    vectors = suite.load()
    m = re.search(r"\| vectors \| \*\*(\d+)\*\* in (\d+) topic files", TEXT)
    assert m and int(m.group(1)) == len(vectors) and int(m.group(2)) == len(suite.vector_files())
    for n in re.findall(r"(?<!\] )\b(\d+) passed, 0 failed, 0 errored, 0 skipped", TEXT):   # the reference's runs
        assert int(n) in (len(vectors), sum(v.topic == "examples" for v in vectors)), n
    assert re.search(rf"\b{len(vectors)} vectors\b", TEXT)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    return guide_workspace(tmp_path_factory.mktemp("vendor-guide"))


def _run(workspace, command: str) -> subprocess.CompletedProcess:
    return subprocess.run(shlex.split(command), cwd=workspace["root"], env=workspace["env"], capture_output=True,
                          text=True, timeout=600)


def _needs_node(block) -> bool:
    return any(" node " in f" {command} " for command, _, _ in block)


@pytest.mark.parametrize("index", range(len(BLOCKS)),
                         ids=[f"{i}:" + " ".join(shlex.split(block[0][0])[1:3]) for i, block in enumerate(BLOCKS)])
def test_a_console_example_prints_what_the_guide_says(index, workspace):
    block = BLOCKS[index]
    if _needs_node(block) and shutil.which("node") is None:
        pytest.skip("node is not installed")
    for earlier in range(index):   # what the earlier blocks leave behind, when they were not selected
        if earlier not in workspace["ran"] and not _needs_node(BLOCKS[earlier]):
            for command, _, _ in BLOCKS[earlier]:
                _run(workspace, command)
            workspace["ran"].add(earlier)
    for command, expected, status in block:
        proc = _run(workspace, command)
        assert "Traceback" not in proc.stderr
        assert proc.returncode == status and output_matches(expected, proc.stdout), (
            f"$ {command}\n--- the guide says (exit {status}):\n" + "\n".join(expected)
            + f"\n--- it printed (exit {proc.returncode}):\n" + proc.stdout + "\n--- stderr:\n" + proc.stderr[-2000:])
    workspace["ran"].add(index)
