"""What a report says about the run that wrote it, so that a claim of conformance can be checked.

Every report (the text, the JSON lines, the JUnit XML, the HTML) carries the same run metadata: when the run
began (UTC), the versions of rollsplit and of its runner, the suite (name, version, vector count and the SHA-256
of its manifest, which holds the SHA-256 of every vector file, so one digest pins every vector), the wire
contract's version, the adapter command with its protocol and handshake, the features the run declared and where
they came from, what was selected, and what the run is: the whole bundled suite (then a conformance level is
claimed) or something else, said in words (then none is).
"""

from __future__ import annotations

import datetime
import hashlib
import platform
import shlex
from pathlib import Path
from typing import Any

import rollsplit
from rollsplit.conformance import suite

REPORT_FORMAT = 2          # 1: reports before run metadata; 2: metadata in every report
RUNNER = "rollsplit conformance"


def manifest_sha256(directory: Path | None = None) -> str | None:
    """The SHA-256 of a suite's manifest file (None when it has none or it cannot be read)."""
    path = (directory or suite.VECTORS_DIR) / suite.MANIFEST
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def bundled_sha256() -> str | None:
    return manifest_sha256(suite.VECTORS_DIR)


def is_bundled(directory: Path | None) -> bool:
    """Is `directory` the bundled suite, or an exact copy of its manifest (the runner has checked every file
    against that manifest before it runs them)?"""
    if directory is None:
        return True
    try:
        if directory.resolve() == suite.VECTORS_DIR.resolve():
            return True
    except OSError:
        return False
    digest = manifest_sha256(directory)
    return digest is not None and digest == bundled_sha256()


def suite_info(directory: Path | None, count: int) -> dict:
    bundled = is_bundled(directory)
    info: dict[str, Any] = {"name": suite.SUITE_NAME, "version": suite.SUITE_VERSION, "vectors": count,
                            "manifest_sha256": manifest_sha256(directory), "bundled": bundled}
    if not bundled:
        info["directory"] = str(directory)
    return info


def now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def runner_info(command: str) -> dict:
    return {"name": RUNNER, "command": command, "version": rollsplit.__version__, "report_format": REPORT_FORMAT,
            "python": platform.python_version(), "platform": f"{platform.system()} {platform.machine()}".strip()}


def run_metadata(*, command: str, adapter: list[str] | None, protocol: str | None, features: list[str] | None,
                 features_from: str, suite_dir: Path | None, suite_count: int, scope: str | None,
                 only: list[str] = (), skip: list[str] = (), expected_failures: list[str] = ()) -> dict:
    """The metadata known before the run starts; the handshake, the features and the level are added as they become
    known (`with_handshake`, `with_level`)."""
    from rollsplit.spec.model import CONTRACT_VERSION
    meta: dict[str, Any] = {
        "date": now(),
        "rollsplit_version": rollsplit.__version__,
        "runner": runner_info(command),
        "suite": suite_info(suite_dir, suite_count),
        "contract_version": CONTRACT_VERSION,
        "adapter": {"command": list(adapter) if adapter is not None else None, "protocol": protocol,
                    "handshake": None},
        "features": list(features) if features is not None else None,
        "features_from": features_from,
        "selection": {"only": sorted(only), "skip": sorted(skip), "expected_failures": sorted(expected_failures)},
        "scope": scope,
        "level": None,
    }
    return meta


def with_handshake(meta: dict, handshake: dict, features: list[str]) -> None:
    if not meta:
        return
    meta.setdefault("adapter", {})["handshake"] = handshake
    meta["features"] = list(features)


def with_level(meta: dict, level: str | None) -> dict:
    if meta:
        meta["level"] = level
    return meta


def scope_of_run(selected: int, total: int, bundled: bool, directory: Path | None, only: list[str]) -> str | None:
    """What a run is, in words, when it is not the whole bundled suite (None when it is: a level is claimed)."""
    if not bundled:
        where = f"the vector files in {directory}"
        return (f"{selected} of the {total} vectors of {where}, selected by --only, not the bundled suite"
                if selected != total else f"the {total} vector{'s' if total != 1 else ''} of {where}, not the "
                "bundled suite")
    if selected != total:
        return f"{selected} of the {total} vectors of the bundled suite, selected by --only {','.join(sorted(only))}"
    return None


# ---- the text report's lines ------------------------------------------------------------------------------------
def text_lines(meta: dict) -> list[str]:
    """Three lines for the human report: the run, the suite, the adapter."""
    if not meta:
        return []
    r, s, a = meta.get("runner") or {}, meta.get("suite") or {}, meta.get("adapter") or {}
    lines = [f"run: {meta.get('date')}; rollsplit {meta.get('rollsplit_version')} ({r.get('command', RUNNER)}, "
             f"report format {r.get('report_format')}, Python {r.get('python')}); contract "
             f"{meta.get('contract_version')}"]
    digest = s.get("manifest_sha256") or "none (no manifest)"
    if s:
        lines.append(f"suite: {s.get('name')} {s.get('version')}, {s.get('vectors')} vectors, manifest SHA-256 {digest}"
                     + ("" if s.get("bundled") else f" (from {s.get('directory')}, not the bundled suite)"))
    records = meta.get("records")
    if isinstance(records, dict):
        lines.append(f"records: {records.get('file')}, {records.get('count')} records, SHA-256 "
                     f"{records.get('sha256')}")
    command = a.get("command")
    if command is not None:
        lines.append(f"adapter: {shlex.join(command)} ({a.get('protocol')}); features from "
                     f"{meta.get('features_from')}")
    return lines


def flat(meta: dict) -> list[tuple[str, str]]:
    """(name, value) pairs for the JUnit XML's properties."""
    import json
    if not meta:
        return []
    r, s, a = meta.get("runner") or {}, meta.get("suite") or {}, meta.get("adapter") or {}
    pairs = [("date", meta.get("date")), ("rollsplit_version", meta.get("rollsplit_version")),
             ("runner", r.get("command")), ("runner_version", r.get("version")),
             ("report_format", r.get("report_format")), ("python", r.get("python")),
             ("suite", s.get("name")), ("suite_version", s.get("version")), ("suite_vectors", s.get("vectors")),
             ("suite_manifest_sha256", s.get("manifest_sha256")), ("suite_bundled", s.get("bundled")),
             ("contract_version", meta.get("contract_version")),
             ("adapter_command", shlex.join(a["command"]) if a.get("command") is not None else None),
             ("adapter_protocol", a.get("protocol")),
             ("adapter_handshake", json.dumps(a.get("handshake"), ensure_ascii=False, separators=(",", ":"))),
             ("records_file", (meta.get("records") or {}).get("file")),
             ("records_sha256", (meta.get("records") or {}).get("sha256")),
             ("features", ",".join(meta.get("features") or [])), ("features_from", meta.get("features_from")),
             ("scope", meta.get("scope") or "the whole bundled suite"),
             ("conformance_level", meta.get("level") or "none claimed")]
    return [(k, "" if v is None else str(v).lower() if isinstance(v, bool) else str(v)) for k, v in pairs
            if v is not None or not k.startswith("records")]
