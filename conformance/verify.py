"""`rollsplit conformance verify`: the suite checks itself before anyone trusts it.

Every problem found is a sentence naming the file and the vector; an empty list means the suite
verifies: the manifest matches the files, every file validates against the vector schema, ids and
descriptions are unique, flags are defined in their file's notes, features are those the request
exercises, every error code of the contract is covered, and every expected answer is exactly the
reference's and obeys every invariant.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from typing import Any

from rollsplit.conformance import suite
from rollsplit.conformance.suite import progress as _progress
from rollsplit.spec.errors import ERROR_CODES
from rollsplit.spec.model import CONTRACT_VERSION

SEMVER = re.compile(r"\d+\.\d+\.\d+")


def validators():
    """Schema validators for vector files and the manifest (the vector schema refers to the message schema)."""
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource
    schemas = [suite.load_schema(n) for n in ("vectors.schema.json", "adapter-messages.schema.json",
                                              "manifest.schema.json")]
    registry = Registry().with_resources((s["$id"], Resource.from_contents(s)) for s in schemas)
    return (Draft202012Validator(schemas[0], registry=registry), Draft202012Validator(schemas[2], registry=registry),
            Draft202012Validator(schemas[1], registry=registry))


def _schema_problems(validator, instance, where: str) -> list[str]:
    out = []
    for err in sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))[:5]:
        path = "/".join(str(p) for p in err.absolute_path) or "(top)"
        out.append(f"{where}: schema: at {path}: {err.message[:300]}")
    return out


def file_problem(path: Path) -> str | None:
    """Why `path`, a `*.json` of a vector directory, is no file to read (a sentence), or None when it is one."""
    try:
        if path.is_symlink() and not path.exists():
            try:
                target = os.readlink(path)
            except OSError:
                target = "?"
            return (f"{path.name}: a symbolic link to {target}, which does not exist (or is a loop of links); "
                    "not a vector file")
        if path.is_dir():
            return f"{path.name}: a directory{' (through a symbolic link)' if path.is_symlink() else ''}, not a vector file"
        if not path.is_file():
            return f"{path.name}: not a regular file (a device, a pipe or a socket), not a vector file"
    except OSError as e:
        return f"{path.name}: cannot be read: {e.strerror or e}"
    return None


def check_manifest(directory: Path, manifest_validator=None) -> tuple[dict | None, list[str]]:
    """(the manifest, the problems of the manifest and of the files it lists); the manifest is None when the
    directory has none. Only files are read: no expected answer is recomputed (that is `verify`)."""
    problems: list[str] = []
    mpath = directory / suite.MANIFEST
    if not (mpath.exists() or mpath.is_symlink()):
        return None, []
    manifest: Any = {}
    bad = file_problem(mpath)
    if bad:
        problems.append(f"{mpath}: cannot read the manifest: {bad.split(': ', 1)[1]}")
    else:
        try:
            manifest = suite.load_file(mpath)
        except (OSError, ValueError) as e:
            problems.append(f"{mpath}: cannot read the manifest: {getattr(e, 'strerror', None) or e}")
    if not isinstance(manifest, dict):
        problems.append(f"{mpath}: the manifest must be a JSON object, not {type(manifest).__name__}")
        manifest = {}
    if not manifest:
        return manifest, problems
    if manifest_validator is None:
        manifest_validator = validators()[1]
    problems += _schema_problems(manifest_validator, manifest, mpath.name)
    if not SEMVER.fullmatch(str(manifest.get("suite_version", ""))):
        problems.append(f"{mpath.name}: suite_version {manifest.get('suite_version')!r} is not SemVer")
    if manifest.get("contract_version") != CONTRACT_VERSION:
        problems.append(f"{mpath.name}: contract_version {manifest.get('contract_version')!r} is not "
                        f"the contract's {CONTRACT_VERSION!r}")
    listed = manifest.get("files", {})
    if not isinstance(listed, dict):
        return manifest, problems
    present = {p.name for p in suite.vector_files(directory)}
    for name in sorted(set(listed) - present):
        problems.append(f"{mpath.name}: lists {name}, which is missing")
    for name in sorted(present - set(listed)):
        problems.append(f"{mpath.name}: does not list {name}")
    for name in sorted(set(listed) & present):
        if file_problem(directory / name):
            continue   # said once, with the file's own problems
        try:
            digest = suite.sha256(directory / name)
        except OSError as e:
            problems.append(f"{name}: cannot be read: {e.strerror or e}")
            continue
        if not isinstance(listed[name], dict) or listed[name].get("sha256") != digest:
            problems.append(f"{name}: SHA-256 {digest} differs from the manifest's (edited after export?)")
    return manifest, problems


def verify(directory: Path = suite.VECTORS_DIR, progress: bool = False) -> list[str]:
    from rollsplit.conformance.export import expected_for
    from rollsplit.conformance.handwritten import Candidate
    from rollsplit.conformance.oracle import judge
    problems: list[str] = []
    vector_validator, manifest_validator, _ = validators()

    # the manifest
    manifest, found = check_manifest(directory, manifest_validator)
    if manifest is None:
        problems.append(f"{directory / suite.MANIFEST}: cannot read the manifest: there is none")
        manifest = {}
    problems += found
    listed = manifest.get("files", {}) if isinstance(manifest.get("files", {}), dict) else {}

    # the files and their vectors
    ids: dict[str, str] = {}
    descriptions: dict[str, str] = {}
    codes: set[str] = set()
    count = 0
    files = []
    for path in (suite.vector_files(directory) if directory.exists() else []):
        bad = file_problem(path)
        if bad:
            problems.append(bad)
            continue
        try:
            data = suite.load_file(path)
        except OSError as e:
            problems.append(f"{path.name}: cannot read the file: {e.strerror or e}")
            continue
        except ValueError as e:   # UnicodeDecodeError and JSONDecodeError are ValueErrors
            problems.append(f"{path.name}: cannot read the file: {e}")
            continue
        if not isinstance(data, dict) or not isinstance(data.get("vectors", []), list):
            problems.append(f"{path.name}: a vector file must be a JSON object with a \"vectors\" array")
            continue
        files.append((path, data))
    total = sum(len(d.get("vectors", [])) for _, d in files)
    retired = set(manifest.get("retired_ids", [])) if isinstance(manifest.get("retired_ids", []), list) else set()
    for path, data in files:
        where = path.name
        schema = _schema_problems(vector_validator, data, where)
        problems += schema
        if schema:
            continue
        if data["contract_version"] != CONTRACT_VERSION:
            problems.append(f"{where}: contract_version {data['contract_version']!r} is not {CONTRACT_VERSION!r}")
        entry = listed.get(where) if isinstance(listed.get(where), dict) else {}
        if manifest and entry.get("vectors") != len(data["vectors"]):
            problems.append(f"{where}: the manifest counts {entry.get('vectors')} vectors, "
                            f"the file has {len(data['vectors'])}")
        used_flags: set[str] = set()
        for v in data["vectors"]:
            count += 1
            if progress and count % 50 == 0:
                _progress(f"verify: {count}/{total} vectors")
            vid = v["id"]
            at = f"{where}: {vid}"
            if not vid.startswith(data["topic"] + "-"):
                problems.append(f"{at}: the id does not start with the topic {data['topic']!r}")
            if vid in ids:
                problems.append(f"{at}: the id is also used in {ids[vid]}")
            ids[vid] = where
            if vid in retired:
                problems.append(f"{at}: the id is retired in the manifest and may not be reused")
            if v["description"] in descriptions:
                problems.append(f"{at}: the description is also that of {descriptions[v['description']]}")
            descriptions[v["description"]] = vid
            used_flags |= set(v["flags"])
            for f in v["flags"]:
                if f not in data["notes"]:
                    problems.append(f"{at}: the flag {f!r} is not defined in the file's notes")
            request = v.get("request")
            want_features = suite.features_of(request if "request_text" not in v else None)
            if sorted(v["features"]) != sorted(want_features) and "form_1099r" not in v["features"]:
                problems.append(f"{at}: features {v['features']} differ from those the request exercises "
                                f"{want_features}")
            now = expected_for(Candidate(data["topic"], v["origin"], "", [], request, v.get("request_text")))
            if now != v["expected"]:
                problems.append(f"{at}: the expected answer is not the reference's: the reference gives "
                                f"{json.dumps(now)[:300]}")
            elif "result" in now:
                verdict = judge(request, now["result"], now)
                if not verdict.ok:
                    problems.append(f"{at}: the expected result breaks the invariants: {verdict.explain()}")
            else:
                codes.add(now["error"])
        for f in sorted(set(data["notes"]) - used_flags):
            problems.append(f"{where}: the note {f!r} defines a flag no vector uses")
    if progress and total:
        _progress("")
    if manifest and manifest.get("vector_count") != count:
        problems.append(f"{suite.MANIFEST}: vector_count {manifest.get('vector_count')} but the files hold {count}")
    for code in sorted(set(ERROR_CODES) - codes):
        problems.append(f"no vector expects the error code {code!r}")
    if not files:
        problems.append(f"{directory}: no vector files")
    return problems
