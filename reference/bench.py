"""`rollsplit bench`: how fast the reference answers, each figure a table with its ratios measured side by side.

Sections (all by default; `--only` picks some):
  requests  `rollsplit.allocate(dict)` for 1, 3 and 8 destinations against the answer path of release 0.3.0 (the
            parser, then the compiled path's lookup), with the parts: validation by the parser and by the fast reader,
            allocation by the compiled and by the generic path;
  json      the strict reading of a `serve` line, typed decoding and writing an answer, the standard library against
            msgspec and orjson when they are installed (and what each does with a repeated key);
  stream    a mixed stream (valid and invalid requests of every feature, drawn by the fuzzing kit's strategies):
            the first pass against the warm one and against the generic path alone, in process and through
            `rollsplit serve`, and the answer path of release 0.3.0 on the same stream;
  startup   `rollsplit allocate --json FILE` against `python -c pass`;
  parallel  `conformance run` (one-shot and persistent) and `conformance fuzz` with 2 jobs against 1;
  batch     `rollsplit allocate --jsonl` with 2 jobs against 1.

In-process figures are CPU time of this process (`time.process_time`), the best of several rounds that alternate
the cells they compare, so a machine busy with other work slows both sides alike; figures that involve other
processes are wall time. A benchmark, not a test: figures vary with the machine and its load.
"""

from __future__ import annotations

import datetime
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

from rollsplit.machine import machine

SECTIONS = ("requests", "json", "stream", "startup", "parallel", "batch")
# how many times faster than release 0.3.0 each request must be answered (whole numbers: compared by multiplying)
TARGETS = {"1 destination": 3, "3 destinations": 2, "8 destinations": 2}
TARGET = 50_000   # allocations/s for the 3-destination request on one core, compiled path
STREAM_SEED = 20261129


def _request(directs: list[tuple[str, str, int]], paid: int, sixty: list[tuple[str, str, int]]) -> dict:
    rows = [{"id": i, "method": "direct", "to": to, "amount": a} for i, to, a in directs]
    if paid:
        rows.append({"id": "me", "method": "paid", "amount": paid})
    req = {"date": "2025-06-30", "plan": "401a", "contract": "pretax_aftertax", "balance": 10_000_000,
           "basis": 2_000_000, "disbursements": rows}
    if sixty:
        req["rollovers_60_day"] = [{"id": i, "to": to, "amount": a} for i, to, a in sixty]
    return req


# name -> (what it is, wire request)
REQUESTS: dict[str, tuple[str, dict]] = {
    "1 destination": ("one direct rollover to a traditional IRA",
                      _request([("ira", "traditional_ira", 6_000_000)], 0, [])),
    "3 destinations": ("IRS FAQ example 1: traditional IRA, Roth IRA, paid",
                       _request([("ira", "traditional_ira", 8_000_000), ("roth", "roth_ira", 1_000_000)],
                                1_000_000, [])),
    "8 destinations": ("5 direct rollovers, paid, 2 sixty-day rollovers",
                       _request([("plan", "qualified_plan", 1_000_000), ("gov", "457b_gov", 500_000),
                                 ("ira", "traditional_ira", 2_000_000), ("roth", "roth_ira", 1_000_000),
                                 ("b403", "403b", 500_000)], 3_000_000,
                                [("r1", "traditional_ira", 1_000_000), ("r2", "roth_ira", 500_000)])),
}


# ---- the answer path of release 0.3.0, kept to measure against ----------------------------------------------
class Before:
    """`reference.calculate` as it was in release 0.3.0 (commit 49542f8): the parser, then the compiled function of the
    request's shape, compiled at its first request (traced, compiled, then its digest checked), in a cache of 1024
    entries that also holds the shapes no proof covers; the generic path otherwise."""

    SIZE = 1024

    def __init__(self) -> None:
        from collections import OrderedDict
        self.cache: OrderedDict = OrderedDict()

    def lookup(self, req):
        from rollsplit.reference import compiled
        key = compiled.shape_key(req)
        if key is None:
            return None
        fn = self.cache.get(key, False)
        if fn is not False:
            self.cache.move_to_end(key)
            return fn
        try:
            fn = compiled.compile_shape(req)
            if compiled.source_digest(fn.source) not in compiled.proved_digests():
                fn = None
        except Exception:
            fn = None
        self.cache[key] = fn
        while len(self.cache) > self.SIZE:
            self.cache.popitem(last=False)
        return fn

    def calculate(self, obj: Any) -> dict:
        from rollsplit.reference import compiled, compute
        from rollsplit.spec.errors import RequestError
        from rollsplit.spec.parse import parse_request
        try:
            req = parse_request(obj)
            fn = self.lookup(req)
            wire = fn(compiled.money_of(req), compiled.ids_of(req)) if fn is not None else None
            return wire if wire is not None else compute(req).to_wire()
        except RequestError as e:
            return e.to_wire()


# ---- timing --------------------------------------------------------------------------------------------------
def rate(fn: Callable[[], object], seconds: float) -> float:
    """Calls per CPU second of `fn`, over batches until `seconds` of CPU time have passed (at least one batch)."""
    batch, calls = 100, 0
    start = time.process_time()
    while True:
        for _ in range(batch):
            fn()
        calls += batch
        elapsed = time.process_time() - start
        if elapsed >= seconds:
            return calls / elapsed
        batch = min(batch * 2, 10_000)


def rates(cells: dict[str, Callable[[], object]], seconds: float, rounds: int = 3) -> dict[str, float]:
    """The best rate of each cell over `rounds` rounds that run every cell in turn (side by side)."""
    best = {k: 0.0 for k in cells}
    for _ in range(rounds):
        for k, fn in cells.items():
            best[k] = max(best[k], rate(fn, seconds / rounds))
    return best


def _table(rows: list[list], headers: list[str]) -> str:
    from tabulate import tabulate
    return tabulate(rows, headers=headers, tablefmt="github", disable_numparse=True)


def _n(x: float) -> str:
    return f"{x:,.0f}"


def _x(ratio: float) -> str:
    return f"{ratio:.2f}x"


def _met(ok: bool) -> str:
    return "met" if ok else "NOT met"


# ---- sections ------------------------------------------------------------------------------------------------
def requests_section(seconds: float, say) -> tuple[str, dict]:
    import rollsplit
    from rollsplit.reference import compiled, compute
    from rollsplit.spec import fast
    from rollsplit.spec.parse import parse_request
    before = Before()
    ends, parts, figures = [], [], {}
    for name, (what, wire) in REQUESTS.items():
        say(f"bench: {name} ...")
        answer = rollsplit.allocate(wire)
        if "error" in answer:
            raise AssertionError(f"benchmark request {name!r} is rejected: {answer['error']}")
        req = parse_request(wire)
        for _ in range(compiled.HOT + 1):   # hot: compiled (where a proof covers it), as a running adapter has it
            rollsplit.allocate(wire)
        proved = compiled.source_digest(compiled.trace_shape(req)) in compiled.proved_digests()
        key, money, ids, _, _ = fast.read(wire)
        fn = compiled.function_of(key)
        if before.calculate(wire) != answer or (proved and fn(money, ids) != compute(req).to_wire()):
            raise AssertionError(f"the answer paths differ on {name!r}")
        cells = {"before": lambda: before.calculate(wire), "after": lambda: rollsplit.allocate(wire),
                 "parser": lambda: parse_request(wire), "reader": lambda: fast.read(wire),
                 "generic": lambda: compute(req).to_wire()}
        if proved:
            cells["compiled"] = lambda: fn(money, ids)
        r = rates(cells, seconds)
        target = TARGETS[name]
        ratio = r["after"] / r["before"]   # shown; the verdict multiplies instead
        figures[name] = {**r, "ratio": ratio, "target": target, "proved": proved}
        ends.append([name, what, _n(r["before"]), _n(r["after"]), _x(ratio), f">= {target}x",
                     _met(r["after"] >= target * r["before"])])
        parts.append([name, _n(r["parser"]), _n(r["reader"]), _x(r["reader"] / r["parser"]),
                      _n(r["compiled"]) if proved else "not proved: generic", _n(r["generic"]),
                      "yes" if proved else "no"])
    text = ("Requests: `rollsplit.allocate(dict)`, strict validation included, against the answer path of release "
            "0.3.0 "
            "(calls per CPU second, best of 3 alternating rounds)\n\n"
            + _table(ends, ["request", "shape", "before /s", "rollsplit.allocate /s", "after / before", "target",
                            "verdict"])
            + "\n\nIts parts: validation by the parser and by the fast reader (spec/fast.py); allocation with value "
              "checks and Result JSON by the compiled and by the generic path\n\n"
            + _table(parts, ["request", "parser /s", "fast reader /s", "reader / parser", "allocation, compiled /s",
                             "allocation, generic /s", "shape proved"]))
    three = figures["3 destinations"]
    if three["proved"]:
        text += (f"\n\nTarget >= {TARGET:,} allocations/s for 3 destinations on the compiled path: "
                 f"{_met(three['compiled'] >= TARGET)} ({_n(three['compiled'])}/s).")
    return text, figures


def json_section(seconds: float, say) -> tuple[str, dict]:
    from rollsplit.reference import calculate
    from rollsplit.reference.serve import decode, encode
    from rollsplit.spec import fast
    say("bench: JSON libraries ...")
    libs: dict[str, Any] = {}
    for name in ("orjson", "msgspec"):
        try:
            libs[name] = __import__(name)
        except ImportError:
            pass
    wire = REQUESTS["3 destinations"][1]
    line = json.dumps({"cmd": "allocate", "seq": 12, "request": wire}, separators=(",", ":")).encode()
    answer = {"seq": 12, "result": calculate(wire)}
    read = {"standard library, strict (rollsplit serve)": lambda: decode(line)}
    typed = {"fast reader (spec/fast.py): types, ranges, structure, shape key, money": lambda: fast.read(wire)}
    write = {"standard library, encoder built once (rollsplit serve)": lambda: encode(answer)}
    strict = {"standard library, strict (rollsplit serve)": _strictness(lambda b: decode(b))}
    if "orjson" in libs:
        o = libs["orjson"]
        read["orjson.loads"] = lambda: o.loads(line)
        write["orjson.dumps"] = lambda: o.dumps(answer)
        strict["orjson.loads"] = _strictness(o.loads)
    if "msgspec" in libs:
        m = libs["msgspec"]
        read["msgspec.json.decode"] = lambda: m.json.decode(line)
        write["msgspec.json.encode"] = lambda: m.json.encode(answer)
        strict["msgspec.json.decode"] = _strictness(m.json.decode)
        request_type = _msgspec_types(m)
        typed["msgspec.convert into Structs (types only)"] = lambda: m.convert(wire, request_type)
    rows, figures = [], {}
    for what, cells in (("read a serve line", read), ("types of a request", typed), ("write an answer", write)):
        r = rates(cells, seconds)
        first = next(iter(r.values()))
        for k, v in r.items():
            figures[f"{what}: {k}"] = v
            rows.append([what, k, _n(v), f"{1e6 / v:.2f}", _x(v / first), strict.get(k, "")])
    missing = [n for n in ("orjson", "msgspec") if n not in libs]
    text = ("JSON, 3-destination request (calls per CPU second; ratio to the first line of each group)\n\n"
            + _table(rows, ["what", "how", "/s", "µs", "ratio", "a repeated key, a 30-digit integer"])
            + ("\n\nnot installed, not measured: " + ", ".join(missing) if missing else ""))
    return text, figures


def _strictness(loads) -> str:
    """What a reader does with a key given twice and with a 30-digit integer (measured, not assumed)."""
    out = []
    for text, what in ((b'{"a": 1, "a": 2}', "repeated key"), (b'{"a": 123456789012345678901234567890}', "big int")):
        try:
            value = loads(text)["a"]
            out.append(f"{what}: read as {value!r}" if not isinstance(value, float) else f"{what}: a float")
        except Exception:
            out.append(f"{what}: rejected")
    return "; ".join(out)


def _msgspec_types(m):
    """The request's types as msgspec Structs (types only: ranges, enumerations and the law are not in them)."""
    from typing import Optional, Union
    strict = {"forbid_unknown_fields": True}
    direct = m.defstruct("Direct", [("id", str), ("amount", int), ("to", str), ("accepts_aftertax", bool, True)],
                         tag_field="method", tag="direct", **strict)
    paid = m.defstruct("Paid", [("id", str), ("amount", int), ("loan_offset", int, 0),
                                ("qualified_plan_loan_offset", bool, False)], tag_field="method", tag="paid", **strict)
    sixty = m.defstruct("Sixty", [("id", str), ("to", str), ("amount", int)], **strict)
    elections = m.defstruct("Elections", [(k, Optional[list[str]] if k.endswith("order") else Optional[dict[str, int]],
                                           None) for k in ("direct_pretax_order", "direct_pretax_amounts",
                                                           "sixty_day_pretax_order", "sixty_day_pretax_amounts")],
                            **strict)
    return m.defstruct("Request", [
        ("date", str), ("plan", str), ("contract", str), ("balance", int), ("basis", int),
        ("disbursements", list[Union[direct, paid]]), ("pre1987_basis", int, 0), ("qualified_roth", bool, False),
        ("rmd", int, 0), ("hardship", bool, False), ("regime", Optional[str], None),
        ("rollovers_60_day", list[sixty], []), ("elections", Optional[elections], None),
        ("other_eligible_this_year", int, 0)], **strict)


def mixed_stream(size: int, seed: int = STREAM_SEED) -> list[Any]:
    """`size` requests drawn as `rollsplit conformance fuzz` draws them (valid and near-valid, every feature):
    dicts, and raw text for those about malformed JSON."""
    from hypothesis import HealthCheck, Phase, Verbosity, given, settings
    from hypothesis import seed as hseed

    from rollsplit.conformance.fuzzing.driver import seed_alone
    from rollsplit.conformance.fuzzing.strategies import ALL_FEATURES, fuzz_cases
    drawn: list[Any] = []

    def keep(case):
        drawn.append(case[0])
    test = settings(max_examples=size, database=None, deadline=None, phases=(Phase.generate,),
                    suppress_health_check=list(HealthCheck), verbosity=Verbosity.quiet)(
        hseed(seed)(given(fuzz_cases(ALL_FEATURES))(keep)))
    with seed_alone():
        test()
    return drawn


def _shapes(stream: list[Any]) -> tuple[int, int]:
    from rollsplit.reference import compiled
    from rollsplit.spec.errors import RequestError
    from rollsplit.spec.parse import parse_request
    keys, proved = set(), 0
    for r in stream:
        try:
            req = parse_request(r)
        except (RequestError, TypeError):
            continue
        key = compiled.shape_key(req)
        if key in keys:
            continue
        keys.add(key)
        try:
            proved += compiled.source_digest(compiled.trace_shape(req)) in compiled.proved_digests()
        except Exception:
            pass
    return len(keys), proved


def stream_section(size: int, say) -> tuple[str, dict]:
    from rollsplit.reference import calculate, calculate_text, compiled
    from rollsplit.spec.errors import RequestError
    from rollsplit.spec.parse import parse_request
    say(f"bench: drawing a mixed stream of {size:,} requests ...")
    stream = mixed_stream(size)
    shapes, proved = _shapes(stream)

    def one_pass(answer) -> float:
        began = time.process_time()
        for r in stream:
            answer(r)
        return size / (time.process_time() - began)

    def answer_now(r):
        return calculate_text(r) if isinstance(r, str) else calculate(r)
    say("bench: mixed stream, in process ...")
    figures: dict[str, Any] = {"requests": size, "shapes": shapes, "proved shapes": proved}
    saved = compiled.HOT, compiled.HOT_UNLIKELY
    passes_after, generic, before_passes, warm = [], [], [], []
    try:
        for round_ in range(2):   # two rounds, side by side; the best of each cell
            compiled.forget()
            passes_after.append([one_pass(answer_now) for _ in range(10)])
            for r in stream:   # warm: every shape a proof covers compiled, as the cache can hold them
                if isinstance(r, dict):
                    try:
                        compiled.lookup(parse_request(r))
                    except (RequestError, TypeError):
                        pass
            warm.append(one_pass(answer_now))
            compiled.forget()
            compiled.HOT = compiled.HOT_UNLIKELY = 10**12
            generic.append(one_pass(answer_now))
            compiled.HOT, compiled.HOT_UNLIKELY = saved
            old = Before()

            def answer_before(r):
                from rollsplit.spec.parse import parse_json
                if isinstance(r, str):
                    try:
                        r = parse_json(r)
                    except RequestError as e:
                        return e.to_wire()
                return old.calculate(r)
            before_passes.append([one_pass(answer_before) for _ in range(3)])
    finally:
        compiled.HOT, compiled.HOT_UNLIKELY = saved
        compiled.forget()
    after = [max(p[i] for p in passes_after) for i in range(10)]
    before = [max(p[i] for p in before_passes) for i in range(3)]
    w, g = max(warm), max(generic)
    figures.update({"after passes": after, "warm": w, "generic": g, "before passes": before})
    rows = [["this version, pass 1 (cold)", _n(after[0]), _x(after[0] / w), _x(after[0] / g), _x(after[0] / before[0])],
            ["this version, pass 2", _n(after[1]), _x(after[1] / w), _x(after[1] / g), ""],
            ["this version, slowest of passes 1-10", _n(min(after)), _x(min(after) / w), _x(min(after) / g), ""],
            ["this version, pass 10", _n(after[9]), _x(after[9] / w), _x(after[9] / g), ""],
            ["this version, warm (every proved shape compiled)", _n(w), "1.00x", _x(w / g), _x(w / before[2])],
            ["generic path alone (same reader, nothing compiled)", _n(g), _x(g / w), "1.00x", ""],
            ["release 0.3.0, pass 1 (cold)", _n(before[0]), _x(before[0] / w), _x(before[0] / g), "1.00x"],
            ["release 0.3.0, pass 3", _n(before[2]), _x(before[2] / w), _x(before[2] / g), ""]]
    # rates compared by whole multipliers: first pass * 5 >= warm * 4, and first pass * 100 >= generic * 97 (within
    # 3% counts as even); requests per second, no money
    cold_ok = 5 * after[0] >= 4 * w and 100 * after[0] >= 97 * g
    text = (f"Mixed stream: {size:,} requests drawn by the fuzzing kit (seed {STREAM_SEED}; valid and invalid, every "
            f"feature), {shapes:,} shapes of valid requests, {proved} of them proved; requests per CPU second, best of 2 "
            "rounds\n\n"
            + _table(rows, ["in process", "requests/s", "/ warm", "/ generic", "/ before, same pass"])
            + f"\n\nTarget: the first pass >= 0.8x the warm pass and not slower than the generic path: {_met(cold_ok)} "
              f"({_x(after[0] / w)} of warm, {_x(after[0] / g)} of generic; the generic path alone measured within "
              "3% counts as even).")
    say("bench: mixed stream, through rollsplit serve ...")
    serve_passes = _serve_passes(stream, 10)
    figures["serve passes"] = serve_passes
    sw = max(serve_passes[7:])
    rows = [[f"pass {i + 1}" + (" (cold)" if i == 0 else ""), _n(p), _x(p / sw)] for i, p in enumerate(serve_passes)]
    text += ("\n\nThe same stream through a fresh `rollsplit serve` (round trips per second, wall time, one request "
             "at a time; warm: the best of passes 8-10)\n\n" + _table(rows, ["pass", "round trips/s", "/ warm"]))
    return text, figures


def _serve_passes(stream: list[Any], passes: int) -> list[float]:
    from rollsplit.conformance.adapter import PersistentAdapter
    out = []
    with PersistentAdapter([sys.executable, "-m", "rollsplit", "serve"], timeout=60, env=installed_env()) as adapter:
        for _ in range(passes):
            began = time.perf_counter()
            for r in stream:
                if isinstance(r, str):
                    if "\n" not in r and "\r" not in r:
                        adapter.allocate_text(r)
                else:
                    adapter.allocate(r)
            out.append(len(stream) / (time.perf_counter() - began))
    return out


def _command() -> list[str]:
    script = Path(sys.executable).with_name("rollsplit")
    return [str(script)] if script.exists() else [sys.executable, "-m", "rollsplit"]


_pyc: list[str] = []   # the benchmark's bytecode folder, removed at the end of `run`


def installed_env() -> dict[str, str]:
    """What a process of ours runs with once installed: its bytecode cached (here in a folder of the benchmark's,
    whatever PYTHONDONTWRITEBYTECODE this shell sets: an empty value turns it off)."""
    if not _pyc:
        _pyc.append(tempfile.mkdtemp(prefix="rollsplit-bench-pyc-"))
    return {"PYTHONDONTWRITEBYTECODE": "", "PYTHONPYCACHEPREFIX": _pyc[0]}


def _wall_and_cpu(command: list[str], env: dict) -> tuple[float, float]:
    began = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    _, _, usage = os.wait4(proc.pid, 0)
    proc.returncode = 0
    return time.perf_counter() - began, usage.ru_utime + usage.ru_stime


def startup_section(runs: int, say) -> tuple[str, dict]:
    say("bench: start-up ...")
    rows, figures = [], {}
    with tempfile.TemporaryDirectory(prefix="rollsplit-bench-") as tmp:
        request = Path(tmp) / "request.json"
        request.write_text(json.dumps(REQUESTS["1 destination"][1]))
        base = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        for label, env in (("bytecode cached, as installed", {**base, "PYTHONPYCACHEPREFIX": str(Path(tmp) / "pyc")}),
                           ("no bytecode cache (PYTHONDONTWRITEBYTECODE=1)", {**base, "PYTHONDONTWRITEBYTECODE": "1"})):
            commands = {"python -c pass": [sys.executable, "-c", "pass"],
                        "rollsplit allocate --json FILE": _command() + ["allocate", "--json", str(request)]}
            for c in commands.values():   # the first runs write the bytecode cache
                _wall_and_cpu(c, env)
            got: dict[str, list] = {k: [] for k in commands}
            for _ in range(runs):   # alternating
                for k, c in commands.items():
                    got[k].append(_wall_and_cpu(c, env))
            med = {k: (statistics.median(x[0] for x in v), statistics.median(x[1] for x in v)) for k, v in got.items()}
            py, alloc = med["python -c pass"], med["rollsplit allocate --json FILE"]
            figures[label] = {"python": py, "allocate": alloc}
            rows.append([label, f"{py[0] * 1000:.1f}", f"{alloc[0] * 1000:.1f}", _x(alloc[0] / py[0]),
                         f"{py[1] * 1000:.1f}", f"{alloc[1] * 1000:.1f}", _x(alloc[1] / py[1])])
    cached = figures["bytecode cached, as installed"]
    ok = cached["allocate"][0] <= 3 * cached["python"][0]
    text = (f"Start-up: median of {runs} alternating runs each\n\n"
            + _table(rows, ["", "python -c pass, ms wall", "allocate --json, ms wall", "ratio", "python, ms CPU",
                            "allocate, ms CPU", "ratio"])
            + f"\n\nTarget: allocate --json at most 3x python -c pass (wall, as installed): {_met(ok)}.")
    return text, figures


def parallel_section(quick: bool, say) -> tuple[str, dict]:
    from rollsplit.conformance import runner, suite
    from rollsplit.conformance.adapter import OneShotAdapter, PersistentAdapter
    from rollsplit.conformance.fuzzing.driver import fuzz_parallel
    from rollsplit.conformance.parallel import AdapterPool
    vectors = suite.load()
    serve = [sys.executable, "-m", "rollsplit", "serve"]
    oneshot = _command() + ["allocate", "--json"]
    sample = vectors if not quick else vectors[:: max(1, len(vectors) // 60)]
    env = installed_env()
    subprocess.run(oneshot + [os.devnull], env={**os.environ, **env}, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)   # the bytecode cache written before the clock starts
    rows, figures = [], {}

    def timed_run(make, jobs: int, chosen) -> float:
        adapters = [make() for _ in range(jobs)]
        adapter = adapters[0] if jobs == 1 else AdapterPool(adapters)
        began = time.perf_counter()
        try:
            adapter.start()
            summary = runner.run(adapter, chosen, runner.Options())
        finally:
            adapter.close()
        seconds = time.perf_counter() - began
        if not summary.ok:
            raise RuntimeError("the reference does not pass its own suite; the figures would mean nothing")
        return seconds

    def timed_fuzz(make, jobs: int, examples: int) -> float:
        adapters = [make() for _ in range(jobs)]
        began = time.perf_counter()
        try:
            adapters[0].start()
            report = fuzz_parallel([a.allocate for a in adapters], examples=examples, seed=STREAM_SEED)
        finally:
            for a in adapters:
                a.close()
        if not report.ok:
            raise RuntimeError("the fuzzer found the reference wrong; the figures would mean nothing")
        return time.perf_counter() - began

    cells = [
        ("conformance run, one-shot (rollsplit allocate --json)", f"{len(sample)} vectors",
         lambda j: timed_run(lambda: OneShotAdapter(oneshot, timeout=60, env=env), j, sample),
         (9, 5) if not quick else None),   # 2 jobs at least 9/5 as fast as 1
        ("conformance run, persistent (rollsplit serve)", f"{len(vectors)} vectors",
         lambda j: timed_run(lambda: PersistentAdapter(serve, timeout=60, env=env), j, vectors), None),
        ("conformance fuzz, one-shot", f"{20 if quick else 60} examples",
         lambda j: timed_fuzz(lambda: OneShotAdapter(oneshot, timeout=60, env=env), j, 20 if quick else 60), None),
        ("conformance fuzz, persistent", f"{200 if quick else 1000} examples",
         lambda j: timed_fuzz(lambda: PersistentAdapter(serve, timeout=60, env=env), j, 200 if quick else 1000),
         None),
    ]
    verdicts = []
    for label, size, timed, target in cells:
        say(f"bench: {label}, --jobs 1 and 2 ...")
        one, two = timed(1), timed(2)
        figures[label] = {"jobs 1": one, "jobs 2": two}
        rows.append([label, size, f"{one:.2f}", f"{two:.2f}", _x(one / two),
                     f">= {target[0] / target[1]:g}x" if target else ""])
        if target:   # one / two >= num / den, compared by multiplying
            verdicts.append(f"{label}: {_met(one * target[1] >= two * target[0])} ({_x(one / two)})")
    text = ("Parallel runs: wall seconds with 1 and with 2 adapter processes (the same reports and results; adapters "
            "with their bytecode cached)\n\n"
            + _table(rows, ["run", "size", "--jobs 1, s", "--jobs 2, s", "speed-up", "target"])
            + ("\n\nTarget: the whole suite one-shot >= 1.8x faster with 2 jobs: " + "; ".join(verdicts) if verdicts
               else "\n\n(--quick: a sample of the suite; the target is for the whole suite)"))
    return text, figures


def batch_lines(count: int) -> bytes:
    """`count` requests as JSON lines: the three benchmark requests and the suite's valid requests in turn, each
    with its own balance (a plan's year of distributions is mostly a few shapes)."""
    from rollsplit.conformance import suite
    templates = [w for _, w in REQUESTS.values()]
    templates += [v.request for v in suite.load() if v.request_text is None and "result" in v.expected][:200]
    out = []
    for i in range(count):
        t = templates[i % len(templates)]
        req = dict(t)
        req["balance"] = t["balance"] + (i % 1000)
        out.append(json.dumps(req, separators=(",", ":")))
    return ("\n".join(out) + "\n").encode()


def batch_section(count: int, say) -> tuple[str, dict]:
    say(f"bench: allocate --jsonl, {count:,} requests ...")
    rows, figures = [], {}
    with tempfile.TemporaryDirectory(prefix="rollsplit-bench-") as tmp:
        src = Path(tmp) / "requests.jsonl"
        src.write_bytes(batch_lines(count))
        outputs = []
        for jobs in (1, 2):
            dst = Path(tmp) / f"answers{jobs}.jsonl"
            began = time.perf_counter()
            subprocess.run(_command() + ["allocate", "--jsonl", str(src), "--out", str(dst), "--jobs", str(jobs)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, **installed_env()})
            seconds = time.perf_counter() - began
            outputs.append(dst.read_bytes())
            figures[f"jobs {jobs}"] = seconds
            rows.append([f"--jobs {jobs}", _n(count), f"{seconds:.2f}", _n(count / seconds)])
        if outputs[0] != outputs[1]:
            raise AssertionError("allocate --jsonl answered otherwise with 2 jobs than with 1")
    rows[1].append(_x(figures["jobs 1"] / figures["jobs 2"]))
    rows[0].append("1.00x")
    text = (f"Batch: rollsplit allocate --jsonl, {count:,} requests (wall time, start-up included; the same "
            f"answers)\n\n" + _table(rows, ["", "requests", "seconds", "requests/s", "speed-up"]))
    return text, figures


def run(seconds: float = 1.0, out=None, progress=None, only: list[str] | None = None, quick: bool = False,
        stream: int = 4000, batch: int = 200_000) -> dict:
    """Print the sections' tables (each as soon as it is measured) and return their figures."""
    out = out if out is not None else sys.stdout          # looked up at the call, not at import
    progress = progress if progress is not None else sys.stderr

    def say(text: str) -> None:
        try:
            print(text, file=progress, flush=True)
        except (OSError, ValueError):
            pass
    chosen = [s for s in SECTIONS if not only or s in only]
    figures = {}
    began = time.monotonic()
    try:
        _sections(chosen, figures, seconds, say, out, quick, stream, batch)
    finally:
        if _pyc:
            import shutil
            shutil.rmtree(_pyc.pop(), ignore_errors=True)
    print(f"Machine: {machine()}; {datetime.date.today().isoformat()}; {time.monotonic() - began:.0f} s for the "
          "benchmark" + (" (--quick: smaller samples)" if quick else ""), file=out, flush=True)
    return figures


def _sections(chosen, figures, seconds, say, out, quick, stream, batch) -> None:
    for name in chosen:
        if name == "requests":
            text, figures[name] = requests_section(seconds, say)
        elif name == "json":
            text, figures[name] = json_section(seconds, say)
        elif name == "stream":
            text, figures[name] = stream_section(min(stream, 600) if quick else stream, say)
        elif name == "startup":
            text, figures[name] = startup_section(5 if quick else 15, say)
        elif name == "parallel":
            text, figures[name] = parallel_section(quick, say)
        else:
            text, figures[name] = batch_section(min(batch, 5000) if quick else batch, say)
        print(text + "\n", file=out, flush=True)


__all__ = ["run", "REQUESTS", "Before", "rate", "rates", "mixed_stream"]
