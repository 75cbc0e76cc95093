"""`rollsplit prove --out DIR` and the files it did not write; two provers and one directory.

- a non-empty directory that is not a bundle of ours is refused (exit 2) and left exactly as it was;
- --force writes beside the files already there and never deletes or overwrites one of them;
- re-proving into our own bundle (marker, or a results.json from before the marker) removes only the files
  the previous run listed; a user's file in obligations/, counterexamples/, mutants/ survives;
- a failed write (ENOSPC, EACCES, ENOENT, EISDIR, a file where a directory belongs) is one sentence, no
  traceback, and leaves the previous bundle as it was;
- while one prove holds the directory's lock, a second one says so, exits 2 and touches nothing.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import rollsplit.solver.prove as P
import rollsplit.solver.report as report_module
from rollsplit.cli import main
from rollsplit.solver import shapes as S

HARDSHIP = S.small_shapes()[6].name()     # a hardship payment, 30 obligations in about 0.3 s
ROTH = S.small_shapes()[5].name()         # a qualified Roth rollover, as quick
USER_FILES = {"mutants/notes.txt": "my notes\n", "counterexamples/customer.json": '{"customer": 1}\n',
              "obligations/mine.smt2": "(check-sat)\n", "notes.txt": "top-level notes\n"}


@pytest.fixture(autouse=True)
def _no_formula_section(monkeypatch):
    monkeypatch.setattr(report_module, "_formulas_section", lambda: "")


def _prove(out: Path, *extra: str, shape: str = HARDSHIP) -> int:
    return main(["prove", "--out", str(out), "--jobs", "1", "--shapes", shape, *extra])


def _snapshot(d: Path) -> dict[str, str]:
    return {str(p.relative_to(d)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(d.rglob("*")) if p.is_file()}


def _put(d: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (d / rel).parent.mkdir(parents=True, exist_ok=True)
        (d / rel).write_text(text)


def _one_sentence(err: str) -> None:
    """One line of stderr besides the progress lines of the proofs (when the error came after them)."""
    lines = [ln for ln in err.strip().splitlines() if not ln.startswith(("[prove]", "[mutants]"))]
    assert "Traceback" not in err and len(lines) == 1, err


def test_a_directory_that_is_not_a_bundle_is_refused_and_left_alone(tmp_path, capsys):
    d = tmp_path / "mine"
    _put(d, {**USER_FILES, "REPORT.md": "# my report\n"})
    before = _snapshot(d)
    assert _prove(d) == 2
    err = capsys.readouterr().err
    _one_sentence(err)
    assert "not a bundle written by rollsplit prove" in err and "--force" in err
    assert _snapshot(d) == before
    assert sorted(p.name for p in d.iterdir()) == sorted({Path(r).parts[0] for r in before})   # no lock file


def test_force_writes_beside_files_it_did_not_write(tmp_path, capsys):
    d = tmp_path / "mine"
    _put(d, USER_FILES)
    assert _prove(d, "--force") == 0
    err = capsys.readouterr().err
    assert "mine.smt2" in err and "unlisted" in err    # told what recheck will say about it
    for rel, text in USER_FILES.items():
        assert (d / rel).read_text() == text
    marker = json.loads((d / P.MARKER).read_text())
    assert marker["written_by"] == "rollsplit prove" and marker["written"]
    assert json.loads((d / "results.json").read_text())["obligations"]
    assert not list(d.glob(".rollsplit-staging-*"))
    # now it is our bundle: a second run needs no --force and still keeps every file of the user
    assert _prove(d) == 0
    for rel, text in USER_FILES.items():
        assert (d / rel).read_text() == text


@pytest.mark.parametrize("name", ["REPORT.md", "results.json"])
def test_force_never_overwrites_a_file_it_did_not_write(tmp_path, capsys, name):
    d = tmp_path / "mine"
    _put(d, {name: "# not ours\n" if name == "REPORT.md" else '{"mine": true}\n'})
    before = _snapshot(d)
    assert _prove(d, "--force") == 2
    err = capsys.readouterr().err
    _one_sentence(err)
    assert name in err and "overwrite" in err
    assert _snapshot(d) == before


def test_our_own_bundle_is_replaced_but_a_users_files_survive(tmp_path, capsys):
    d = tmp_path / "audit"
    assert _prove(d) == 0
    old = json.loads((d / "results.json").read_text())
    old_files = {o["file"] for o in old["obligations"]}
    _put(d, {k: v for k, v in USER_FILES.items()})
    assert _prove(d, shape=ROTH) == 0
    for rel, text in USER_FILES.items():
        assert (d / rel).read_text() == text, rel
    new = json.loads((d / "results.json").read_text())
    new_files = {o["file"] for o in new["obligations"]}
    assert {o["shape"] for o in new["obligations"]} - {"-"} == {ROTH}
    for f in old_files - new_files:     # the previous run's files for the other shape are gone
        assert not (d / f).exists(), f
    for f in new_files:
        assert (d / f).is_file()
    # apart from the user's own .smt2 file (which recheck reports as unlisted), the bundle re-checks clean
    assert main(["recheck", str(d), "--jobs", "1"]) == 1
    assert "mine.smt2" in capsys.readouterr().out
    (d / "obligations" / "mine.smt2").unlink()
    assert main(["recheck", str(d), "--jobs", "1"]) == 0


def test_a_bundle_written_before_the_marker_is_ours(tmp_path, capsys):
    d = tmp_path / "audit"
    assert _prove(d) == 0
    (d / P.MARKER).unlink()     # as written before the marker existed: recognised by its results.json
    (d / "notes.txt").write_text("mine\n")
    assert _prove(d, shape=ROTH) == 0
    assert (d / "notes.txt").read_text() == "mine\n"
    assert (d / P.MARKER).is_file()
    assert main(["recheck", str(d), "--jobs", "1"]) == 0


def test_results_json_cannot_steer_deletion_outside_the_bundle(tmp_path):
    """A doctored results.json names files outside the bundle's folders: none of them is ever removed."""
    d = tmp_path / "audit"
    assert _prove(d) == 0
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n")
    (d / "keep.txt").write_text("keep me too\n")
    data = json.loads((d / "results.json").read_text())
    extra = dict(data["obligations"][0])
    data["obligations"] += [{**extra, "file": f} for f in ("../victim.txt", "keep.txt", "obligations/../keep.txt",
                                                          "/etc/hostname", "obligations/sub/../../../victim.txt")]
    data["mutants"] = [{"file": "../victim.txt", "counterexample": "mutants/../keep.txt"}]
    (d / "results.json").write_text(json.dumps(data))
    assert _prove(d) == 0
    assert victim.read_text() == "keep me\n" and (d / "keep.txt").read_text() == "keep me too\n"


def test_leftovers_of_an_interrupted_run_never_reach_the_bundle(tmp_path):
    d = tmp_path / "audit"
    assert _prove(d) == 0
    stale = d / ".rollsplit-staging-999999"     # what a killed prove left behind
    _put(stale, {"obligations/inv__HALF__written.smt2": "(check-sat)\n", "results.json": "{"})
    (d / P.LOCK).write_text("999999\n")          # and its lock file, naming a dead process
    assert _prove(d, shape=ROTH) == 0
    assert not stale.exists()
    assert main(["recheck", str(d), "--jobs", "1"]) == 0


# --- errors: one sentence, never a traceback, the previous bundle untouched ---

@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EACCES, errno.ENOENT])
def test_a_failed_write_of_results_leaves_the_previous_bundle(tmp_path, monkeypatch, capsys, code):
    d = tmp_path / "audit"
    assert _prove(d) == 0
    before = _snapshot(d)

    def full(*a, **k):
        raise OSError(code, os.strerror(code), str(d / "results.json"))
    monkeypatch.setattr(P, "write_results", full)
    capsys.readouterr()
    assert _prove(d, shape=ROTH) == 1
    err = capsys.readouterr().err
    _one_sentence(err)
    assert os.strerror(code) in err and "unchanged" in err
    assert _snapshot(d) == before
    assert not list(d.glob(".rollsplit-staging-*"))


def test_a_failed_write_in_a_worker_is_a_sentence_and_changes_nothing(tmp_path, monkeypatch, capsys):
    d = tmp_path / "audit"
    assert _prove(d) == 0
    before = _snapshot(d)

    def full(self, data):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self))
    monkeypatch.setattr(Path, "write_bytes", full)     # the workers are forked: they see it too
    capsys.readouterr()
    assert _prove(d, shape=ROTH) == 1
    err = capsys.readouterr().err
    _one_sentence(err)
    assert "No space left on device" in err
    assert _snapshot(d) == before


def test_a_directory_where_results_json_belongs(tmp_path, capsys):
    d = tmp_path / "audit"
    assert _prove(d) == 0
    (d / "results.json").unlink()
    (d / "results.json").mkdir()       # EISDIR when the bundle is published
    assert _prove(d) == 2
    err = capsys.readouterr().err
    _one_sentence(err)
    assert "results.json" in err and "directory" in err


def test_a_file_where_a_bundle_folder_belongs(tmp_path, capsys):
    d = tmp_path / "audit"
    assert _prove(d) == 0
    (d / "counterexamples").write_text("not a folder\n")
    before = _snapshot(d)
    assert _prove(d) == 2
    err = capsys.readouterr().err
    _one_sentence(err)
    assert "counterexamples" in err and "not a directory" in err
    assert _snapshot(d) == before


def test_out_below_a_file(tmp_path, capsys):
    f = tmp_path / "a-file"
    f.write_text("")
    assert _prove(f / "audit") == 2
    _one_sentence(capsys.readouterr().err)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root writes anywhere")
def test_a_read_only_directory(tmp_path, capsys):
    d = tmp_path / "ro"
    d.mkdir()
    d.chmod(0o555)
    try:
        assert _prove(d) == 2
    finally:
        d.chmod(0o755)
    err = capsys.readouterr().err
    _one_sentence(err)
    assert "Permission denied" in err


# --- two provers, one directory ---

def test_a_second_prove_refuses_while_the_first_holds_the_lock(tmp_path, capsys):
    fcntl = pytest.importorskip("fcntl")
    d = tmp_path / "audit"
    assert _prove(d) == 0
    before = _snapshot(d)
    # another process holds the lock exactly as a running prove does
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import fcntl, os, sys, time\n"
         f"fd = os.open({str(d / '.rollsplit-lock')!r}, os.O_RDWR | os.O_CREAT, 0o644)\n"
         "fcntl.flock(fd, fcntl.LOCK_EX)\n"
         "os.ftruncate(fd, 0); os.write(fd, str(os.getpid()).encode())\n"
         "print('locked', flush=True)\n"
         "time.sleep(120)\n"],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        before = _snapshot(d)
        capsys.readouterr()
        assert _prove(d, shape=ROTH) == 2
        err = capsys.readouterr().err
        _one_sentence(err)
        assert "another rollsplit prove" in err and f"pid {holder.pid}" in err
        assert _snapshot(d) == before
    finally:
        holder.kill()
        holder.wait()
    assert fcntl   # the lock dies with its holder: the next run goes ahead
    assert _prove(d, shape=ROTH) == 0
    assert main(["recheck", str(d), "--jobs", "1"]) == 0


def test_the_lock_is_held_for_the_whole_run(tmp_path, monkeypatch):
    """While one prove is working (here: inside its proofs), a second prove into the directory refuses."""
    pytest.importorskip("fcntl")
    d = tmp_path / "audit"
    seen = []
    real = P.run_all

    def run_all_and_try_a_second(*a, **k):
        seen.append(_prove(d, shape=ROTH))
        return real(*a, **k)
    monkeypatch.setattr(P, "run_all", run_all_and_try_a_second)
    assert _prove(d) == 0
    assert seen == [2]
    monkeypatch.setattr(P, "run_all", real)
    assert main(["recheck", str(d), "--jobs", "1"]) == 0


def test_a_move_cut_short_is_cleaned_up_by_the_next_prove(tmp_path, monkeypatch, capsys):
    """The only window where the bundle mixes two runs: the final move. The marker then lists both runs'
    files, so the next prove removes them all and its bundle re-checks clean."""
    d = tmp_path / "audit"
    assert _prove(d, shape=ROTH) == 0
    real_publish, real_replace = P.publish, os.replace
    moved = []

    def replace_a_few(src, dst):
        if len(moved) == 5:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(dst))
        moved.append(dst)
        real_replace(src, dst)

    def publish_cut_short(claim):
        monkeypatch.setattr(os, "replace", replace_a_few)
        try:
            real_publish(claim)
        finally:
            monkeypatch.setattr(os, "replace", real_replace)
    monkeypatch.setattr(P, "publish", publish_cut_short)
    capsys.readouterr()
    assert _prove(d) == 1
    err = capsys.readouterr().err
    _one_sentence(err)
    assert "No space left on device" in err and "run prove again" in err
    assert json.loads((d / P.MARKER).read_text())["state"] == "publishing"
    monkeypatch.setattr(P, "publish", real_publish)
    (d / "notes.txt").write_text("mine\n")
    assert _prove(d) == 0
    assert (d / "notes.txt").read_text() == "mine\n"
    assert json.loads((d / P.MARKER).read_text())["state"] == "complete"
    assert main(["recheck", str(d), "--jobs", "1"]) == 0
