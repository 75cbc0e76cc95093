"""The conformance suite as data: where it lives, how a vector reads, what it needs, and its self-check.

Vectors live in `conformance/vectors/<topic>.json`; `manifest.json` beside them holds the suite
version (SemVer), the contract version, the vector count and the SHA-256 of every file.
`verify()` is the suite's sanity check (JSON-Schema-Test-Suite style): schemas, manifest, unique
ids and descriptions, every flag defined in its file's notes, and every expected answer equal to
the reference's and obeying every invariant.
"""

from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rollsplit.spec.features import FEATURES, required_features
from rollsplit.spec.model import CONTRACT_VERSION

HERE = Path(__file__).resolve().parent
VECTORS_DIR = HERE / "vectors"
SCHEMAS_DIR = HERE / "schemas"
MANIFEST = "manifest.json"
SUITE_NAME = "rollsplit-conformance"
SUITE_VERSION = "2.1.0"   # SemVer: major = contract break, minor = vectors added, patch = wording, citations, fixes


@dataclass(frozen=True)
class Vector:
    id: str
    topic: str
    description: str
    features: tuple[str, ...]
    tags: tuple[str, ...]
    flags: tuple[str, ...]
    request: Any                   # the JSON request, or None when `request_text` is given
    request_text: str | None       # raw text for vectors about malformed JSON
    expected: dict                 # {"result": {...}} or {"error": code}
    acceptable: tuple[dict, ...]   # alternatives the contract leaves open (none today)
    citations: tuple[dict, ...]
    origin: str

    def tag_set(self) -> set[str]:
        """What --only/--skip match: id, topic, tags, flags, features."""
        return {self.id, self.topic, *self.tags, *self.flags, *self.features}


def dump(obj: Any) -> str:
    """The one way suite files are written, so a re-export is byte for byte identical."""
    return json.dumps(obj, indent=1, ensure_ascii=False) + "\n"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def features_of(request: Any) -> list[str]:
    """The contract features a request exercises (a vendor that lacks one skips the vector), in the order of
    spec.features.FEATURES: spec.features.required_features, the one definition the fuzzing kit uses too."""
    need = required_features(request)
    return [f for f in FEATURES if f in need]


def vector_files(directory: Path = VECTORS_DIR) -> list[Path]:
    return sorted(p for p in directory.glob("*.json") if p.name != MANIFEST)


MAX_DEPTH = 64   # a vector file nests about 10 levels; deeper is not a vector file (and would exhaust recursion)


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        twice = next(k for k, _ in pairs if k in seen or seen.add(k))
        raise ValueError(f"the key {json.dumps(twice, ensure_ascii=False)[:80]} appears twice in one object "
                         "(JSON readers disagree on which one counts)")
    return obj


def _depth(value: Any) -> int:
    deepest, stack = 0, [(value, 1)]
    while stack:
        v, d = stack.pop()
        deepest = max(deepest, d)
        if isinstance(v, dict):
            stack += [(x, d + 1) for x in v.values()]
        elif isinstance(v, list):
            stack += [(x, d + 1) for x in v]
    return deepest


def load_file(path: Path) -> Any:
    """A suite file's JSON. Raises OSError when it cannot be read, ValueError (a sentence) when it is not UTF-8,
    not JSON, holds a key twice in one object, or nests deeper than `MAX_DEPTH` levels."""
    text = path.read_text(encoding="utf-8")
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicate_keys)
    except RecursionError:
        raise ValueError(f"the JSON nests deeper than this reader can follow (a vector file nests at most "
                         f"{MAX_DEPTH} levels)") from None
    if _depth(data) > MAX_DEPTH:
        raise ValueError(f"the JSON nests deeper than {MAX_DEPTH} levels, which no vector file does")
    return data


def _vector(topic: str, v: dict) -> Vector:
    return Vector(id=v["id"], topic=topic, description=v["description"], features=tuple(v["features"]),
                  tags=tuple(v.get("tags", ())), flags=tuple(v.get("flags", ())), request=v.get("request"),
                  request_text=v.get("request_text"), expected=v["expected"],
                  acceptable=tuple(v.get("acceptable", ())), citations=tuple(v.get("citations", ())),
                  origin=v.get("origin", ""))


class MalformedFile(ValueError):
    """A vector file that cannot be read as one: the message names the file and says why."""


def load(directory: Path = VECTORS_DIR) -> list[Vector]:
    """Every vector of the suite, file by file in name order, each file in its own order. Raises OSError when a
    file cannot be read, `MalformedFile` when one is not a vector file."""
    out = []
    for path in vector_files(directory):
        try:
            data = load_file(path)
        except ValueError as e:
            raise MalformedFile(f"{path.name}: {e}") from None
        try:
            out += [_vector(data["topic"], v) for v in data["vectors"]]
        except (KeyError, TypeError, AttributeError, IndexError) as e:
            what = f"it lacks the field {e}" if isinstance(e, KeyError) else "a field holds a value of the wrong type"
            raise MalformedFile(f"{path.name}: not in the format of a vector file ({what})") from None
    return out


def manifest_for(directory: Path) -> dict:
    files = {}
    count = 0
    for path in vector_files(directory):
        n = len(load_file(path)["vectors"])
        files[path.name] = {"sha256": sha256(path), "vectors": n}
        count += n
    return {"suite": SUITE_NAME, "suite_version": SUITE_VERSION, "contract_version": CONTRACT_VERSION,
            "vector_count": count, "files": files}


def load_schema(name: str) -> dict:
    return json.loads((SCHEMAS_DIR / name).read_text(encoding="utf-8"))


def progress(msg: str) -> None:
    """A progress line on stderr: rewritten in place on a terminal, one plain line per message otherwise
    (an empty message clears the line)."""
    if sys.stderr.isatty():
        print(f"\r\033[K{msg}", end="", file=sys.stderr, flush=True)
    elif msg:
        print(msg, file=sys.stderr, flush=True)
