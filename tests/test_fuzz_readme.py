"""The fuzzing guide's examples are re-run and print what the guide says (issue 15).

Every ```console block of conformance/fuzzing/README.md is a list of commands (`$ ...`), each followed by what
it prints on stdout. A line `...` stands for any number of lines, `...` inside a line for any text; seconds are
not compared. The guide names the Hypothesis version its figures were recorded with: with another version the
same seed draws other requests, so then every number is left out of the comparison (the words still count).
The ```python block of "In your own Python tests" is run with the reference (it passes) and with a calculator a
cent off (it fails with Mismatch).
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from pathlib import Path

import hypothesis
import pytest

import rollsplit
from reference_helpers import guide_workspace

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "conformance" / "fuzzing" / "README.md"
TEXT = README.read_text(encoding="utf-8")
RECORDED_WITH = re.search(r"recorded with Hypothesis (\d+\.\d+\.\d+)", TEXT).group(1)


def console_blocks(text: str) -> list[list[tuple[str, list[str]]]]:
    """Each console block as [(command, expected stdout lines)]."""
    blocks = []
    for body in re.findall(r"^```console\n(.*?)^```$", text, re.S | re.M):
        commands: list[tuple[str, list[str]]] = []
        for line in body.splitlines():
            if line.startswith("$ "):
                commands.append((line[2:], []))
            else:
                assert commands, f"output before any command in a console block: {line!r}"
                commands[-1][1].append(line)
        blocks.append(commands)
    return blocks


BLOCKS = console_blocks(TEXT)


def _normalize(text: str, numbers: bool) -> str:
    text = re.sub(r"\d+(?:\.\d+)?(?= ?s\b)", "<seconds>", text)
    return re.sub(r"\d+", "<n>", text) if not numbers else text


def output_matches(expected: list[str], actual: str, numbers: bool = True) -> bool:
    """`expected` (lines, with `...` wildcards) against the whole of `actual`."""
    pattern = ""
    for line in expected:
        line = _normalize(line.rstrip(), numbers)
        if line.strip() == "...":
            pattern += r"(?:[^\n]*\n)*?"
        else:
            pattern += "[^\n]*?".join(re.escape(part) for part in line.split("...")) + r"\n"
    lines = [_normalize(x.rstrip(), numbers) for x in actual.splitlines()]
    return re.fullmatch(pattern, "".join(x + "\n" for x in lines)) is not None


def test_the_matcher():
    assert output_matches(["a 1.5 s", "...", "z ... end"], "a 2.0 s\nb\nc\nz 42 x end\n")
    assert output_matches(["a", "...", "b"], "a\nb")
    assert not output_matches(["a", "b"], "a\nb\nc\n")
    assert not output_matches(["x 3 rows"], "x 4 rows")
    assert output_matches(["x 3 rows"], "x 4 rows", numbers=False)
    assert output_matches(["found after 69 examples (0.3 s), shrunk in 35 steps"],
                          "found after 69 examples (12.5 s), shrunk in 35 steps")


def test_the_guide_has_its_examples():
    commands = [c for block in BLOCKS for c, _ in block]
    assert len(BLOCKS) >= 4 and all(expected for block in BLOCKS for _, expected in block)
    assert any("mutant_adapter truncation" in c and c.startswith("rollsplit conformance fuzz") for c in commands)
    assert any(c.startswith("python -m pytest examples/fuzz_with_pytest") for c in commands)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """One directory for the guide's commands, in order (a later block may read what an earlier one wrote, as
    `conformance run --vectors fuzz-failures` does): the checkout's `examples` and `conformance` linked in, and
    `rollsplit` and `python` on PATH as this interpreter (the commands print their own command lines)."""
    return guide_workspace(tmp_path_factory.mktemp("guide"), links=("examples", "conformance"))


def _run(workspace, command: str) -> subprocess.CompletedProcess:
    return subprocess.run(shlex.split(command), cwd=workspace["root"], env=workspace["env"], capture_output=True,
                          text=True, timeout=300)


@pytest.mark.parametrize("index", range(len(BLOCKS)),
                         ids=[f"{i}:" + " ".join(shlex.split(block[0][0])[1:3]) for i, block in enumerate(BLOCKS)])
def test_a_console_example_prints_what_the_guide_says(index, workspace):
    block = BLOCKS[index]
    if any(" node " in f" {command} " for command, _ in block) and shutil.which("node") is None:
        pytest.skip("node is not installed")
    for earlier in range(index):   # what the earlier blocks leave behind, when they were not selected
        if earlier not in workspace["ran"] and not any(" node " in f" {c} " for c, _ in BLOCKS[earlier]):
            for command, _ in BLOCKS[earlier]:
                _run(workspace, command)
            workspace["ran"].add(earlier)
    numbers = hypothesis.__version__ == RECORDED_WITH
    for command, expected in block:
        proc = _run(workspace, command)
        assert output_matches(expected, proc.stdout, numbers), (
            f"$ {command}\n--- the guide says:\n" + "\n".join(expected) + f"\n--- it printed (exit {proc.returncode}):\n"
            + proc.stdout + "\n--- stderr:\n" + proc.stderr[-2000:])
    workspace["ran"].add(index)


QUIET = hypothesis.settings(max_examples=50, database=None, deadline=None,
                            suppress_health_check=list(hypothesis.HealthCheck))


def _python_example() -> str:
    section = TEXT[TEXT.index("## In your own Python tests"):]
    return re.search(r"^```python\n(.*?)^```$", section, re.S | re.M).group(1)


def test_the_python_example_passes_on_the_reference_and_fails_a_cent_off():
    code = _python_example()
    namespace: dict = {"my_calculator": rollsplit.allocate}
    exec(compile(code, str(README), "exec"), namespace)
    QUIET(namespace["test_my_calculator"])()

    def a_cent_off(req):
        answer = rollsplit.allocate(req)
        return dict(answer, taxable_income=answer["taxable_income"] + 1) if "error" not in answer else answer
    namespace = {"my_calculator": a_cent_off}
    exec(compile(code, str(README), "exec"), namespace)
    with pytest.raises(rollsplit.Mismatch, match="taxable_income"):
        QUIET(namespace["test_my_calculator"])()
