"""The example adapters of the vendor guide pass the suite: Python (the reference behind 20 lines) and an
independent JavaScript calculator for the core features, in both protocols."""

from __future__ import annotations

import os
import shutil
import sys

import pytest

from rollsplit.conformance import runner, suite
from rollsplit.conformance.adapter import OneShotAdapter, PersistentAdapter

NODE = shutil.which("node")
JS = str(suite.HERE / "examples" / "adapter.js")
VECTORS = suite.load()
needs_node = pytest.mark.skipif(NODE is None, reason="node is not installed, so the JavaScript example cannot run")


def test_ci_has_node():
    """.ci/run sets ROLLSPLIT_REQUIRE_NODE=1: there the JavaScript example must run, not be skipped."""
    if os.environ.get("ROLLSPLIT_REQUIRE_NODE") != "1":
        pytest.skip("node is optional outside CI (ROLLSPLIT_REQUIRE_NODE is not set)")
    assert NODE is not None, "CI requires node for the JavaScript example adapter, and it is not on PATH"


@needs_node
def test_javascript_example_passes_every_core_vector():
    with PersistentAdapter([NODE, JS], timeout=20) as adapter:
        assert adapter.handshake["features"] == ["core", "form_1099r"]
        summary = runner.run(adapter, VECTORS, runner.Options())
    assert summary.ok, runner.render(summary)
    core = [v for v in VECTORS if set(v.features) == {"core"}]
    assert summary.count(runner.PASSED) == len(core) > 200
    assert summary.count(runner.SKIPPED) == len(VECTORS) - len(core)
    assert summary.level() == "core"


@needs_node
def test_javascript_example_one_shot():
    with OneShotAdapter([NODE, JS, "--oneshot"], timeout=20, features=["core", "form_1099r"]) as adapter:
        summary = runner.run(adapter, VECTORS, runner.Options(only={"validation"}))
    ran = [o for o in summary.outcomes if o.status != runner.SKIPPED]
    assert len(ran) > 20 and summary.ok, runner.render(summary)


def test_python_example_is_about_twenty_lines():
    code = [l for l in (suite.HERE / "examples" / "adapter.py").read_text().splitlines()
            if l.strip() and not l.strip().startswith("#")]
    assert len(code) <= 40


# ---- the vendor guide (conformance/README.md) stays true -------------------------------------------------
README = suite.HERE / "README.md"
FUZZ_README = suite.HERE / "fuzzing" / "README.md"


def _block_after(marker: str) -> str:
    """The first fenced code block after the HTML comment `<!-- marker ...-->` of the vendor guide."""
    text = README.read_text(encoding="utf-8")
    start = text.index(f"<!-- {marker}")
    fence = text.index("```", start)
    body = text.index("\n", fence) + 1
    return text[body:text.index("```", body)]


def test_guide_quotes_the_persistent_loop_of_the_python_example():
    block = _block_after("persistent-adapter")
    assert "def serve(calculate" in block and '{"seq": None, "error"' in block
    assert block in (suite.HERE / "examples" / "adapter.py").read_text(encoding="utf-8")


def test_guide_one_shot_adapter_passes_its_vectors(tmp_path):
    block = _block_after("oneshot-adapter")
    assert "from my_calculator import calculate" in block
    path = tmp_path / "oneshot_adapter.py"
    path.write_text(block.replace("from my_calculator import calculate", "from rollsplit import allocate as calculate"))
    # one process per vector: the topics with malformed JSON, every error code and the worked examples
    with OneShotAdapter([sys.executable, str(path)], timeout=20) as adapter:
        summary = runner.run(adapter, VECTORS, runner.Options(only={"validation", "examples"}))
    assert summary.ok and summary.count(runner.PASSED) == len(summary.outcomes) > 40, runner.render(summary)
    # and it is an adapter that can fail: without the strict JSON reader, duplicate keys get a result
    path.write_text(path.read_text().replace("object_pairs_hook=unique_keys, ", ""))
    with OneShotAdapter([sys.executable, str(path)], timeout=20) as adapter:
        summary = runner.run(adapter, VECTORS, runner.Options(only={"validation-0001"}))
    assert summary.count(runner.FAILED) == 1


def _guide_commands():
    import re
    import shlex
    for path in (README, FUZZ_README):
        for block in re.findall(r"```sh\n(.*?)```", path.read_text(encoding="utf-8"), re.S):
            for line in block.splitlines():
                words = shlex.split(line, comments=True)
                if words[:1] == ["rollsplit"]:
                    yield path.name, words[1:]


def test_every_rollsplit_command_of_the_guides_parses():
    from rollsplit.cli import build_parser
    commands = list(_guide_commands())
    assert len(commands) > 15
    for name, argv in commands:
        try:
            args = build_parser().parse_args(argv)
        except SystemExit:
            pytest.fail(f"{name}: `rollsplit {' '.join(argv)}` is not a valid command line")
        assert callable(args.func)


# The 64-bit mistake of the guide's "Money needs big integers": the JavaScript example with its
# round_half_up wrapping at 64 bits, as Java long, C int64_t or Rust u64 arithmetic would.
EXACT = "const roundHalfUp = (x, y, z) => (z > 0n ? (2n * x * y + z) / (2n * z) : 0n);"
WRAPPED = ("const W = (v) => BigInt.as{kind}(64, v); "
           "const roundHalfUp = (x, y, z) => (z > 0n ? W(W(W(W(2n * x) * y) + z) / W(2n * z)) : 0n);")
CAUGHT_BY_64_BIT = {f"large_values-{n:04d}" for n in (1, 2, 5, 6, 8, 9, 10, 11)}   # listed in the guide


@needs_node
@pytest.mark.parametrize("kind", ["IntN", "UintN"])
def test_64_bit_integers_fail_the_large_values(tmp_path, kind):
    source = (suite.HERE / "examples" / "adapter.js").read_text(encoding="utf-8")
    assert source.count(EXACT) == 1
    path = tmp_path / "adapter64.js"
    path.write_text(source.replace(EXACT, WRAPPED.format(kind=kind)), encoding="utf-8")
    with PersistentAdapter([NODE, str(path)], timeout=20) as adapter:
        summary = runner.run(adapter, VECTORS, runner.Options())
    failed = {o.vector.id for o in summary.outcomes if o.status == runner.FAILED}
    assert failed == CAUGHT_BY_64_BIT, runner.render(summary)
    assert {v.id for v in VECTORS if "Overflow64" in v.flags} <= failed
    assert summary.count(runner.ERRORED) == 0
