"""`conformance run --jobs N`: N adapter processes, the reports in the order of the vectors, the same results as
one adapter (both protocols, a calculator with failures, a hanging one, Ctrl-C). No timing is asserted here:
`rollsplit bench` measures the speed-up."""

from __future__ import annotations

import json
import os
import re
import signal
import sys

import pytest

from rollsplit.cli import main
from rollsplit.conformance import runner, suite
from rollsplit.conformance.adapter import PersistentAdapter
from rollsplit.conformance.parallel import AdapterPool
from rollsplit.spec.features import FEATURES
from reference_helpers import signal_when_ready

PY = sys.executable
SERVE = [PY, "-m", "rollsplit", "serve"]
ONESHOT = [PY, "-m", "rollsplit", "allocate", "--json"]
MUTANT = [PY, "-m", "rollsplit.conformance.testing.mutant_adapter"]
VECTORS = suite.load()


def _report(path) -> list[dict]:
    """The JSON report without what differs from one run to the next whatever --jobs: the seconds each vector took
    and the run's metadata (its date, ...)."""
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    for r in rows:
        r.pop("seconds", None)
        r.pop("metadata", None)
    return rows


def _cli(argv, capsys) -> tuple[int, str]:
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out


@pytest.mark.parametrize("command, only", [
    (SERVE, None),                                                  # the whole suite, persistent
    (MUTANT + ["aftertax_first"], None),                            # a calculator that fails many vectors
    (ONESHOT, "examples,invalid_json"),                             # one process per vector (a sample)
])
def test_jobs_2_reports_what_jobs_1_reports_line_for_line(tmp_path, capsys, command, only):
    reports, texts = [], []
    for jobs in ("1", "2"):
        path = tmp_path / f"r{jobs}.jsonl"
        argv = ["conformance", "run", "--jobs", jobs, "--report-json", str(path), "--junit", str(tmp_path / "j.xml")]
        argv += ["--oneshot"] if command is ONESHOT else []
        argv += ["--only", only] if only else []
        code, out = _cli(argv + ["--"] + command, capsys)
        reports.append((code, _report(path)))
        texts.append(re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", "(date)", out))   # when it ran
    assert reports[0] == reports[1]
    assert texts[0] == texts[1]          # the human report too: failures in the order of the vectors
    code, rows = reports[0]
    assert len(rows) == 2 + (len(VECTORS) if only is None else rows[0]["vectors"])
    if command[-1] == "aftertax_first":
        assert code == 1 and any(r.get("status") == "failed" for r in rows[1:-1])
    else:
        assert code == 0


def test_the_library_pool_judges_in_the_order_of_the_vectors():
    vectors = VECTORS[:60]
    with PersistentAdapter(SERVE, timeout=20) as one:
        alone = runner.run(one, vectors, runner.Options())
    pool = AdapterPool([PersistentAdapter(SERVE, timeout=20) for _ in range(3)])
    with pool:
        together = runner.run(pool, vectors, runner.Options())
    assert [(o.vector.id, o.status) for o in together.outcomes] == [(o.vector.id, o.status) for o in alone.outcomes]
    assert together.ok and together.level() == alone.level()


HANG = "import sys, time\nfor line in sys.stdin:\n    if '\"start\"' in line:\n        print('{\"protocol\": 1, " \
       "\"features\": [\"core\"], \"implementation\": {\"name\": \"h\", \"version\": \"1\", \"language\": \"py\"}}'" \
       ", flush=True)\n    else:\n        time.sleep(60)\n"


def test_a_hanging_calculator_stops_the_run_as_with_one_adapter(tmp_path, capsys):
    script = tmp_path / "hang.py"
    script.write_text(HANG)
    outs = []
    for jobs in ("1", "2"):
        path = tmp_path / f"r{jobs}.jsonl"
        code, out = _cli(["conformance", "run", "--jobs", jobs, "--timeout", "0.3", "--max-hangs", "2", "--only",
                          "examples", "--report-json", str(path), "--", PY, str(script)], capsys)
        outs.append((code, out.splitlines()[-1], _report(path)))
    assert outs[0] == outs[1]
    assert outs[0][0] == 1 and outs[0][1].endswith("not run")


def test_ctrl_c_with_two_adapters_reports_what_ran_and_leaves_no_process(tmp_path):
    ready = tmp_path / "ready"
    script = tmp_path / "slow.py"
    # answers the first request, then stalls (and says so): Ctrl-C arrives while both adapters are busy
    script.write_text(
        "import json, os, sys, time\nn = 0\nfor line in sys.stdin:\n    msg = json.loads(line)\n"
        "    if msg['cmd'] == 'start':\n        print(json.dumps({'protocol': 1, 'features': %r, " % list(FEATURES) +
        "'implementation': {'name': 's', 'version': '1', 'language': 'py'}}), flush=True)\n        continue\n"
        "    if msg['cmd'] == 'stop':\n        break\n    n += 1\n    if n > 1:\n"
        "        open(os.environ['READY'] + str(os.getpid()), 'w').close()\n        time.sleep(120)\n"
        "    print(json.dumps({'seq': msg['seq'], 'error': {'code': 'invalid_request', 'message': 'm', "
        "'field': None}}), flush=True)\n")
    jl = tmp_path / "r.jsonl"
    code, out, err = signal_when_ready([PY, "-m", "rollsplit", "conformance", "run", "--jobs", "2", "--timeout", "120",
                                        "--only", "examples", "--report-json", str(jl), "--", PY, str(script)],
                                       tmp_path / "ready*", signal.SIGINT, {**os.environ, "READY": str(ready)},
                                       count=2)
    stalled = [int(p.name[len("ready"):]) for p in tmp_path.glob("ready*")]
    assert len(stalled) == 2
    assert code == 130, out + err
    assert "Traceback" not in out + err
    # each adapter answered one request; which vectors those were depends on which adapter asked first, and the
    # report judges in vector order: the first one or two vectors were judged, never a later one before them
    judged = re.search(r"interrupted after (\d+) of", err)
    assert judged and int(judged.group(1)) in (1, 2), err
    rows = [json.loads(line) for line in jl.read_text().splitlines()]
    assert [r["id"] for r in rows[1:]] == [v.id for v in VECTORS if "examples" in v.tag_set()][:int(judged.group(1))]
    for pid in stalled:   # both adapters are gone
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


# ---- conformance fuzz --jobs N ---------------------------------------------------------------------------------
def _without_seconds(text: str) -> str:
    return re.sub(r"\d+(\.\d+)? s\b", "(seconds)", text)


@pytest.mark.parametrize("command, oneshot", [(MUTANT + ["aftertax_first"], False), (ONESHOT, True)],
                         ids=["persistent-mutant", "oneshot-reference"])
def test_fuzz_jobs_2_finds_and_shrinks_what_jobs_1_does(tmp_path, capsys, command, oneshot):
    outs = []
    for jobs in ("1", "2"):
        argv = ["conformance", "fuzz", "--seed", "3", "--examples", "120" if not oneshot else "24", "--jobs", jobs,
                "--out", str(tmp_path / "f")] + (["--oneshot"] if oneshot else []) + ["--"] + command
        code = main(argv)
        out = capsys.readouterr()
        written = sorted((tmp_path / "f").glob("*.json")) if (tmp_path / "f").exists() else []
        outs.append((code, _without_seconds(out.out), [json.loads(p.read_text())["vectors"] for p in written]))
        for p in written:
            p.unlink()
    assert outs[0] == outs[1]
    assert outs[0][0] == (0 if oneshot else 1)


def test_fuzz_parallel_in_process_equals_fuzz():
    """Two calculators judging at once: the same first wrong example and the same shrunk request; a clean run draws
    as many examples."""
    from rollsplit.conformance.fuzzing.driver import fuzz, fuzz_parallel
    from rollsplit.reference import calculate
    from rollsplit.reference.mutants import calculate_with

    def mutant(request):
        return calculate_with("sixty_day_ignored", request)
    for seed in (1, 2):
        one = fuzz(mutant, examples=400, seed=seed, max_shrink_seconds=60)
        two = fuzz_parallel([mutant, mutant], examples=400, seed=seed, max_shrink_seconds=60)
        assert (one.first_failure_example, one.failure.request, one.stopped) == \
            (two.first_failure_example, two.failure.request, two.stopped)
        assert not two.notes
    clean_one = fuzz(calculate, examples=150, seed=5)
    clean_two = fuzz_parallel([calculate, calculate, calculate], examples=150, seed=5)
    assert clean_one.ok and clean_two.ok and clean_one.examples == clean_two.examples


def test_an_extra_adapter_that_does_not_start_is_left_out_and_the_run_is_the_same():
    from rollsplit.conformance.adapter import AdapterStartError

    class NoStart(PersistentAdapter):
        def start(self):
            raise AdapterStartError("this one does not start")
    vectors = VECTORS[:20]
    with PersistentAdapter(SERVE, timeout=20) as one:
        alone = runner.run(one, vectors, runner.Options())
    pool = AdapterPool([PersistentAdapter(SERVE, timeout=20), NoStart(SERVE, timeout=20)])
    with pool:
        assert pool.jobs == 1
        together = runner.run(pool, vectors, runner.Options())
    assert [(o.vector.id, o.status) for o in together.outcomes] == [(o.vector.id, o.status) for o in alone.outcomes]
