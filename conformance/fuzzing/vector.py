"""A shrunk failure as a ready conformance vector file (conformance/schemas/vectors.schema.json, the format
of conformance/vectors), run with `rollsplit conformance run --vectors DIR -- COMMAND`, to paste into a bug
report or keep as a regression test.

The id is "fuzz-" and the first 32 bits of the SHA-256 of the canonical request JSON, written as ten decimal
digits (the schema's ids are `<topic>-<digits>`): the same failure always gets the same id and file name.
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any

from rollsplit.conformance.fuzzing.driver import FuzzFailure
from rollsplit.spec.features import required_features
from rollsplit.spec.invariants import CONTRACT


def vector_id(request: Any) -> str:
    canonical = json.dumps(request, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    sha8 = hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:8]
    return f"fuzz-{int(sha8, 16):010d}"


def _citations(failure: FuzzFailure) -> list[dict]:
    seen: dict[tuple, dict] = {}
    broken = failure.verdict.broken if failure.verdict is not None else []
    for inv in broken:
        for c in inv.citations:
            cite = {"source": c.source, "pinpoint": c.pinpoint, "quote": c.quote}
            if not c.confirmed:
                cite["secondary"] = True
            seen.setdefault((c.source, c.pinpoint), cite)
    if not seen:
        seen[(CONTRACT.source, CONTRACT.pinpoint)] = {"source": CONTRACT.source, "pinpoint": CONTRACT.pinpoint,
                                                      "quote": CONTRACT.quote}
    return list(seen.values())


def failure_vector(failure: FuzzFailure, seed: int | None = None, implementation: dict | None = None) -> dict:
    """One vector: the shrunk request and the reference's expected answer."""
    expected = failure.expected
    what = failure.explain().splitlines()
    name = (implementation or {}).get("name") or "a calculator"
    desc = f"Found by rollsplit conformance fuzz (seed {seed}) against {name}: " + \
        ("; ".join(line.strip() for line in what[:4]) if what else "wrong answer")
    vector: dict[str, Any] = {
        "id": vector_id(failure.request),
        "description": desc if len(desc) <= 500 else desc[:497] + "...",
        "citations": _citations(failure),
        "features": sorted(required_features(failure.request), key=lambda f: (f != "core", f)),
        "tags": ["fuzz"] + [f"invariant:{inv.id}" for inv in (failure.verdict.broken if failure.verdict else [])],
        "flags": [],
        "request": failure.request,
        "origin": f"rollsplit conformance fuzz, seed {seed}",
    }
    if "error" in expected:
        vector["expected"] = {"error": expected["error"]["code"]}
    else:
        vector["expected"] = {"result": expected}
    return vector


def vector_file(vectors: list[dict], seed: int | None = None) -> dict:
    from rollsplit.conformance.suite import SUITE_VERSION
    from rollsplit.spec.model import CONTRACT_VERSION
    return {"topic": "fuzz", "description": f"Failures found by rollsplit conformance fuzz (seed {seed}).",
            "contract_version": CONTRACT_VERSION, "suite_version": SUITE_VERSION, "notes": {},
            "vectors": vectors}


def write_failure(failure: FuzzFailure, out_dir: str, seed: int | None = None, implementation: dict | None = None,
                  command: list[str] | None = None) -> str:
    """Write the failure as `<out_dir>/<id>.json`; returns the path."""
    vector = failure_vector(failure, seed, implementation)
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, f"{vector['id']}.json")
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(vector_file([vector], seed), fh, indent=2, ensure_ascii=False)
        fh.write("\n")
    return path
