"""Files that are not what they seem, and directories that are not ours (issue: items 5 and 7, and two of the
smaller ones).

Item 5: `conformance verify` answers a dangling symbolic link, a link to a directory and a file nested 100,000
deep with a sentence each (never a traceback); `run --vectors DIR` checks DIR against its manifest first, says
loudly when it has none, and survives the deep file too. A key written twice in one object of a vector file
(two "expected") fails verify.
Item 7: `conformance export --dir` checks the directory before any exploration: a foreign `*.json` is refused
with a sentence, a new directory is created, an unwritable one is found at once, another export holding the
directory is refused; the files are written all at once at the end, so a failure leaves the directory as it was,
and a file export did not write is never removed.
A start failure with --junit leaves a well-formed report saying so (never a 0-byte or a stale file).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from reference_helpers import run_cli
from rollsplit.conformance import export, suite

PY = sys.executable
SERVE = [PY, "-m", "rollsplit", "serve"]
DEEP = "[" * 100_000 + "]" * 100_000


_run = run_cli   # tests/reference_helpers.py


def _small_suite(d: Path, topics=("examples",)) -> Path:
    """A suite of a few of the bundled files, with a manifest of its own."""
    d.mkdir()
    for t in topics:
        shutil.copy(suite.VECTORS_DIR / f"{t}.json", d / f"{t}.json")
    _write_manifest(d)
    return d


def _write_manifest(d: Path) -> None:
    (d / suite.MANIFEST).write_text(suite.dump({**suite.manifest_for(d), "retired_ids": []}), encoding="utf-8")


def _snapshot(d: Path) -> dict[str, str]:
    return {str(p.relative_to(d)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(d.rglob("*")) if p.is_file()}


# ---- item 5: verify and run --vectors on strange files -----------------------------------------------------
@pytest.mark.parametrize("kind, phrase", [
    ("dangling", "which does not exist"),
    ("link_to_dir", "a directory (through a symbolic link)"),
    ("loop", "which does not exist (or is a loop of links)"),
    ("deep", "nests deeper"),
])
def test_verify_answers_strange_files_with_a_sentence(tmp_path, capsys, kind, phrase):
    d = _small_suite(tmp_path / "v")
    target = d / "examples.json"            # a file the manifest lists
    target.unlink()
    if kind == "dangling":
        target.symlink_to(tmp_path / "missing.json")
    elif kind == "link_to_dir":
        (tmp_path / "elsewhere").mkdir()
        target.symlink_to(tmp_path / "elsewhere")
    elif kind == "loop":
        target.symlink_to(target)
    else:
        target.write_text(DEEP)
    code, out = _run(["conformance", "verify", "--dir", str(d)], capsys)
    assert code == 1
    assert f"examples.json: " in out.out and phrase in out.out, out.out


def test_verify_answers_a_manifest_that_is_a_link_to_a_directory(tmp_path, capsys):
    d = _small_suite(tmp_path / "v")
    (d / suite.MANIFEST).unlink()
    (tmp_path / "elsewhere").mkdir()
    (d / suite.MANIFEST).symlink_to(tmp_path / "elsewhere")
    code, out = _run(["conformance", "verify", "--dir", str(d)], capsys)
    assert code == 1 and "cannot read the manifest" in out.out


def test_a_key_written_twice_in_a_vector_file_fails_verify(tmp_path, capsys):
    d = _small_suite(tmp_path / "v")
    path = d / "examples.json"
    data = json.loads(path.read_text())
    text = path.read_text()
    first = json.dumps(data["vectors"][0]["expected"], indent=1, ensure_ascii=False).replace("\n", "\n   ")
    # a reader that keeps the first "expected" sees an error expected; one that keeps the last sees the result
    doubled = text.replace('"expected": ' + first, '"expected": {"error": "invalid_json"},\n   "expected": ' + first, 1)
    assert doubled != text
    path.write_text(doubled)
    manifest = json.loads((d / suite.MANIFEST).read_text())   # the manifest has the file's true digest
    manifest["files"]["examples.json"]["sha256"] = suite.sha256(path)
    (d / suite.MANIFEST).write_text(suite.dump(manifest))
    code, out = _run(["conformance", "verify", "--dir", str(d)], capsys)
    assert code == 1
    assert 'examples.json: cannot read the file: the key "expected" appears twice in one object' in out.out
    assert "SHA-256" not in out.out


def test_run_checks_the_manifest_of_the_vectors_first(tmp_path, capsys):
    d = _small_suite(tmp_path / "v")
    path = d / "examples.json"
    data = json.loads(path.read_text())
    data["vectors"][0]["expected"] = {"error": "invalid_json"}   # edited after export
    path.write_text(suite.dump(data))
    code, out = _run(["conformance", "run", "--vectors", str(d), "--"] + SERVE, capsys)
    assert code == 2
    assert "do not match its manifest" in out.err and "examples.json: SHA-256" in out.err
    assert "passed" not in out.out   # nothing ran


def test_run_says_loudly_when_the_vectors_have_no_manifest(tmp_path, capsys):
    d = _small_suite(tmp_path / "v")
    (d / suite.MANIFEST).unlink()
    code, out = _run(["conformance", "run", "--vectors", str(d), "--only", "examples-0001", "--"] + SERVE, capsys)
    assert code == 0
    assert "warning" in out.err and "has no manifest" in out.err


@pytest.mark.parametrize("manifest", [True, False])
def test_run_survives_a_deep_vector_file(tmp_path, capsys, manifest):
    d = _small_suite(tmp_path / "v")
    (d / "deep.json").write_text(DEEP)
    if manifest:   # the manifest lists it, with its true digest: the file itself is the problem
        m = json.loads((d / suite.MANIFEST).read_text())
        m["files"]["deep.json"] = {"sha256": suite.sha256(d / "deep.json"), "vectors": 0}
        (d / suite.MANIFEST).write_text(suite.dump(m))
    else:
        (d / suite.MANIFEST).unlink()
    code, out = _run(["conformance", "run", "--vectors", str(d), "--"] + SERVE, capsys)
    assert code == 2 and "deep.json" in out.err and "nests deeper" in out.err


@pytest.mark.parametrize("kind", ["dangling", "link_to_dir"])
def test_run_refuses_a_vector_directory_with_a_strange_file(tmp_path, capsys, kind):
    d = _small_suite(tmp_path / "v")
    (d / suite.MANIFEST).unlink()
    if kind == "dangling":
        (d / "gone.json").symlink_to(tmp_path / "missing.json")
    else:
        (tmp_path / "elsewhere").mkdir()
        (d / "gone.json").symlink_to(tmp_path / "elsewhere")
    code, out = _run(["conformance", "run", "--vectors", str(d), "--"] + SERVE, capsys)
    assert code == 2 and "gone.json" in out.err and "not a vector file" in out.err


# ---- item 7: export --dir ---------------------------------------------------------------------------------
@pytest.fixture
def quick_export(monkeypatch):
    """export without z3: no region vectors, five handwritten ones. `calls` counts the explorations begun."""
    from rollsplit.conformance import handwritten
    calls = []
    few = handwritten.candidates()[:5]

    def regions(shapes=None, jobs=2):
        calls.append(1)
        return [], []
    monkeypatch.setattr(export, "region_candidates", regions)
    monkeypatch.setattr(handwritten, "candidates", lambda: list(few))
    return calls


def _export(argv, capsys):
    return _run(["conformance", "export"] + argv, capsys)


def test_export_refuses_a_foreign_json_before_any_work(tmp_path, capsys, quick_export):
    d = tmp_path / "v"
    _run(["conformance", "export", "--dir", str(d)], capsys)
    assert quick_export == [1]
    (d / "notes.json").write_text('{"mine": true}\n')
    before = _snapshot(d)
    code, out = _export(["--dir", str(d)], capsys)
    assert code == 2 and "notes.json" in out.err and "not a file of the suite" in out.err
    assert "KeyError" not in out.err
    assert quick_export == [1]          # no exploration began
    assert _snapshot(d) == before       # nothing changed, no lock file left


def test_export_writes_into_a_new_directory(tmp_path, capsys, quick_export):
    d = tmp_path / "new" / "suite"
    code, out = _export(["--dir", str(d)], capsys)
    assert code == 0, out.err
    assert (d / suite.MANIFEST).is_file() and (d / "COVERAGE.md").is_file()
    assert sorted(p.name for p in d.iterdir() if p.name.startswith(".")) == [export.MARKER]   # no lock, no staging
    assert _run(["conformance", "verify", "--dir", str(d)], capsys)[1].out.count("SHA-256") == 0


def test_export_finds_an_unwritable_directory_before_any_work(capsys, quick_export):
    d = Path(tempfile.mkdtemp(prefix="rollsplit-ro-"))   # outside pytest's 0700 folder: nobody may enter it
    try:
        if os.geteuid() == 0:   # root writes anywhere: drop to nobody for the call
            d.chmod(0o755)
            os.seteuid(65534)
        else:
            d.chmod(0o555)
        try:
            code, out = _export(["--dir", str(d)], capsys)
        finally:
            if os.geteuid() != os.getuid():
                os.seteuid(0)
        assert code == 2 and f"cannot write to {d}" in out.err and "Permission denied" in out.err
        assert quick_export == []
        assert list(d.iterdir()) == []
    finally:
        if os.geteuid() == 0 or d.stat().st_uid == os.getuid():
            d.chmod(0o755)
        shutil.rmtree(d, ignore_errors=True)


def test_export_refuses_a_directory_another_export_is_writing(tmp_path, capsys, quick_export):
    d = tmp_path / "v"
    d.mkdir()
    fd = os.open(d / export.LOCK, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        code, out = _export(["--dir", str(d)], capsys)
    finally:
        os.close(fd)
    assert code == 2 and "another rollsplit conformance export" in out.err
    assert quick_export == [] and sorted(p.name for p in d.iterdir()) == [export.LOCK]


def test_a_failed_export_leaves_the_directory_as_it_was(tmp_path, capsys, quick_export, monkeypatch):
    d = tmp_path / "v"
    _export(["--dir", str(d)], capsys)
    before = _snapshot(d)

    def broken_table(directory, rows):   # fails after every vector file and the manifest are written
        raise export.ExportError("the coverage table failed on purpose")
    monkeypatch.setattr(export, "coverage_table", broken_table)
    code, out = _export(["--dir", str(d)], capsys)
    assert code == 1 and "failed on purpose" in out.err
    assert _snapshot(d) == before
    assert sorted(p.name for p in d.iterdir() if p.name.startswith(".")) == [export.MARKER]


def test_export_keeps_what_it_did_not_write(tmp_path, capsys, quick_export):
    d = tmp_path / "v"
    d.mkdir()
    (d / "README.txt").write_text("mine\n")
    code, out = _export(["--dir", str(d)], capsys)
    assert code == 2 and "is not empty" in out.err and "--force" in out.err
    assert sorted(p.name for p in d.iterdir()) == ["README.txt"]
    code, out = _export(["--dir", str(d), "--force"], capsys)
    assert code == 0, out.err
    code, out = _export(["--dir", str(d)], capsys)      # ours now: no --force needed, README.txt kept
    assert code == 0 and (d / "README.txt").read_text() == "mine\n"


def test_export_never_overwrites_a_suite_file_it_did_not_write(tmp_path, capsys, quick_export):
    d = tmp_path / "v"
    d.mkdir()
    (d / "COVERAGE.md").write_text("my notes\n")
    code, out = _export(["--dir", str(d), "--force"], capsys)
    assert code == 2 and "was not written by rollsplit conformance export" in out.err
    assert (d / "COVERAGE.md").read_text() == "my notes\n"


# ---- smaller: a start failure with --junit -----------------------------------------------------------------
def test_a_start_failure_writes_a_report_that_says_so(tmp_path, capsys):
    xml, jl = tmp_path / "r.xml", tmp_path / "r.jsonl"
    xml.write_text("<old/>")
    code, out = _run(["conformance", "run", "--junit", str(xml), "--report-json", str(jl), "--",
                      str(tmp_path / "no-such-adapter")], capsys)
    assert code == 2 and "cannot run" in out.err
    case = ET.parse(xml).getroot().find("testsuite/testcase")
    assert case.get("name") == "start" and "cannot run" in case.find("error").text
    rows = [json.loads(line) for line in jl.read_text().splitlines()]
    assert rows[-1]["ok"] is False and "cannot run" in rows[-1]["start_error"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.jsonl", "r.xml"]
