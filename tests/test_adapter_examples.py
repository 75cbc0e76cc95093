"""The example adapters of the vendor guide pass the suite: Python (the reference behind 20 lines) and an
independent JavaScript calculator for the core features, in both protocols."""

from __future__ import annotations

import shutil
import sys

import pytest

from conformance import runner, suite
from conformance.adapter import OneShotAdapter, PersistentAdapter

NODE = shutil.which("node")
JS = str(suite.HERE / "examples" / "adapter.js")
VECTORS = suite.load()
needs_node = pytest.mark.skipif(NODE is None, reason="node is not installed, so the JavaScript example cannot run")


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
