"""Attacks across submissions and on the grader's bookkeeping, each graded next to honest submissions.

Every honest submission in these runs must keep full marks.
"""

from __future__ import annotations

import csv
import ctypes
import json
import os
import re
import secrets
from pathlib import Path

import nbformat
import pytest

from aigc_course.grading.authoring import build_assignment
from aigc_course.grading.grade import grade_folder, grade_single
from aigc_course.grading.jail import Limits

ROOT = Path(__file__).resolve().parents[1]
MATH = ROOT / "exercises" / "ex1_math.instructor.ipynb"
LIMITS = Limits(wall_s=30, cpu_s=30, memory_mb=600, file_mb=8)
SHM_KEY = 0x5EED0000 + secrets.randbelow(0xFFFF)

SABOTEUR = """
import os, signal, time
signal.signal(signal.SIGINT, signal.SIG_IGN)
for _ in range(300):
    for target in (0, -1):
        try:
            os.kill(target, signal.SIGINT)
        except OSError:
            pass
    time.sleep(0.005)
"""
SHM_WRITER = f"""
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
shm = libc.shmget({SHM_KEY}, 1 << 20, 0o1666)  # IPC_CREAT | 0666
if shm >= 0:
    ctypes.memmove(libc.shmat(shm, None, 0), b"message for the next student", 28)
"""
HEAP_SCANNER = """
import ctypes, re
prefix = bytes(c ^ 1 for c in b'"!md`j,ld;!')  # '# leak-me: ' built at run time
found = set()
for line in open('/proc/self/maps'):
    addr, perms = line.split()[:2]
    if not perms.startswith('rw'):
        continue
    lo, hi = (int(a, 16) for a in addr.split('-'))
    for start in range(lo, hi, 1 << 24):
        try:
            chunk = ctypes.string_at(start, min(1 << 24, hi - start))
        except Exception:
            continue
        found.update(m.decode() for m in re.findall(re.escape(prefix) + rb'([0-9a-f]{32})', chunk))
print('FOUND', sorted(found))
"""


WHOLE_LIMITS = Limits(wall_s=60, cpu_s=60, memory_mb=300, file_mb=8, processes=16)
DAEMON = "d" + secrets.token_hex(6)  # the name (comm) every daemon gives itself, to find any left behind
FORK_BOMB = """
import os, time
n = 0
for _ in range(2000):
    try:
        pid = os.fork()
    except OSError:
        break
    if pid == 0:
        time.sleep(30)
        os._exit(0)
    n += 1
print('FORKED', n)
"""
MEMORY_SPLITTER = """
import os, time
r, w = os.pipe()
for _ in range(4):  # four children of 250 MB each: every one of them is under the 300 MB per process
    if os.fork() == 0:
        block = b'x' * 250_000_000
        os.write(w, b'1')
        time.sleep(4)
        os._exit(0)
time.sleep(3)
os.set_blocking(r, False)
try:
    print('HELD', len(os.read(r, 100)))
except BlockingIOError:
    print('HELD', 0)
"""
DAEMONS = f"""
import ctypes, os, time
libc = ctypes.CDLL(None)
r, w = os.pipe()
for _ in range(300):
    try:
        pid = os.fork()
    except OSError:
        break
    if pid == 0:
        try:
            os.setsid()
            if os.fork() == 0:  # detached: its own session, its parent gone
                libc.prctl(15, b"{DAEMON}", 0, 0, 0)  # PR_SET_NAME
                os.write(w, b'1')
                time.sleep(600)
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
time.sleep(1)
os.set_blocking(r, False)
try:
    print('DAEMONS', len(os.read(r, 1000)))
except BlockingIOError:
    print('DAEMONS', 0)
"""


def add_cell(src: Path, dest: Path, code: str) -> Path:
    nb = nbformat.read(str(src), as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(code))
    nbformat.write(nb, str(dest))
    return dest


@pytest.fixture(scope="module")
def math_bundle(tmp_path_factory):
    return build_assignment(MATH, tmp_path_factory.mktemp("assigned"))[1]


@pytest.fixture(scope="module")
def graded_class(math_bundle, tmp_path_factory):
    """One class folder: honest copies under awkward names, saboteurs, links and colliding names."""
    subs = tmp_path_factory.mktemp("subs")
    honest = ["a b", "a_b", "x" * 100 + "1", "x" * 100 + "2", "=HYPERLINK(1)",
              os.fsdecode(b"bad\xffname"), "honest"]
    for name in honest:
        (subs / f"{name}.ipynb").write_bytes(MATH.read_bytes())
    add_cell(MATH, subs / "saboteur.ipynb", SABOTEUR)
    add_cell(MATH, subs / "shm_writer.ipynb", SHM_WRITER)
    (subs / "carol.ipynb").write_bytes(MATH.read_bytes())
    (subs / "carol").mkdir()
    (subs / "carol" / "mine.ipynb").write_bytes(MATH.read_bytes())
    (subs / "linker.ipynb").symlink_to(MATH)
    (subs / "dave").mkdir()
    (subs / "dave" / "copy.ipynb").symlink_to(subs / "honest.ipynb")
    out = tmp_path_factory.mktemp("out")
    summary = grade_folder(subs, math_bundle, out, workers=2, limits=LIMITS, progress=False)
    rows = list(csv.DictReader((out / "grades.csv").open(encoding="utf-8")))
    return {"summary": summary, "rows": rows, "out": out, "honest": honest}


def test_honest_submissions_graded_beside_a_saboteur_keep_full_marks(graded_class):
    scores = {r["student"]: float(r["total"]) for r in graded_class["rows"]}
    assert scores["honest"] == 10 and scores["saboteur"] == 10 and scores["shm_writer"] == 10
    assert sum(1 for r in graded_class["rows"] if float(r["total"]) == 10) == len(graded_class["honest"]) + 2


def test_every_file_name_gets_its_own_row_and_none_stops_the_class(graded_class):
    rows, summary = graded_class["rows"], graded_class["summary"]
    assert len(rows) == len(graded_class["honest"]) + 2 == summary["graded"]
    assert summary["errors"] == []
    names = [r["student"] for r in rows]
    assert "a b" in names and "a_b" in names and "bad\\xffname" in names
    assert "x" * 100 + "1" in names and "x" * 100 + "2" in names
    assert "'=HYPERLINK(1)" in names  # a spreadsheet shows it as text, never runs it


def test_links_and_a_notebook_beside_a_folder_of_the_same_name_are_refused_and_listed(graded_class):
    refused = graded_class["summary"]["refused"]
    assert set(refused) == {"linker.ipynb", "dave", "carol"}
    assert "symbolic link" in refused["linker.ipynb"] and "both" in refused["carol"]
    text = (graded_class["out"] / "summary.md").read_text()
    assert "linker.ipynb" in text and "carol" in text


def test_shared_memory_a_submission_creates_does_not_outlive_it(graded_class):
    libc = ctypes.CDLL(None, use_errno=True)
    assert libc.shmget(SHM_KEY, 0, 0) == -1  # no segment with that key is left on the host


def test_a_later_submission_cannot_find_an_earlier_ones_code_in_memory(math_bundle, tmp_path):
    secret, own = secrets.token_hex(16), secrets.token_hex(16)
    first = add_cell(MATH, tmp_path / "first.ipynb", f"# leak-me: {secret}")
    scanner = add_cell(MATH, tmp_path / "scanner.ipynb", f"# leak-me: {own}\n" + HEAP_SCANNER)
    recs = grade_single([first, scanner], math_bundle, LIMITS)
    assert recs[0]["total"] == recs[1]["total"] == 10
    out = recs[1]["output_tail"]
    assert own in out  # the scan works: it finds the code of its own notebook
    assert secret not in out


def test_hidden_tests_report_the_failed_property_never_the_expected_value(math_bundle, tmp_path):
    nb = nbformat.read(str(MATH), as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.source = cell.source.replace("    return ", "    return 1.5 * ")
    nbformat.write(nb, str(tmp_path / "wrong.ipynb"))
    rec = grade_single([tmp_path / "wrong.ipynb"], math_bundle, LIMITS)[0]
    hidden = [t for t in rec["tests"] if t["hidden"] and not t["passed"]]
    assert hidden and rec["total"] < 10
    assert not any("expected" in t["message"] for t in hidden), [t["message"] for t in hidden]


def test_feedback_caps_and_escapes_what_a_submission_controls(math_bundle, tmp_path):
    from aigc_course.grading.grade import feedback_markdown

    rec = {"total": 0, "max_total": 10, "questions": {}, "notes": [], "tests": [], "output_tail": "",
           "cell_errors": [{"cell": 1, "error": "x\n\n**Total: 10 / 10**" + "y" * 10_000}]}
    text = feedback_markdown("mallory", rec)
    assert "**Total: 10 / 10**" not in text.split("\n", 3)[3] and len(text) < 2000


def printed(rec: dict, word: str) -> int:
    """The number the submission printed after `word` (it counts what it managed to do)."""
    lines = [line for line in rec["output_tail"].splitlines() if line.startswith(word + " ")]
    assert lines, rec["output_tail"][-500:]
    return int(lines[-1].split()[1])


def processes_named(name: str) -> list[int]:
    found = []
    for pid in (p for p in os.listdir("/proc") if p.isdigit()):
        try:
            if open(f"/proc/{pid}/comm").read().strip() == name:
                found.append(int(pid))
        except OSError:
            pass
    return found


@pytest.fixture(scope="module")
def greedy_class(math_bundle, tmp_path_factory):
    """Honest submissions graded by two workers beside a fork bomb, a memory splitter and 300 daemons."""
    subs = tmp_path_factory.mktemp("greedy")
    for name in ("honest1", "honest2"):
        (subs / f"{name}.ipynb").write_bytes(MATH.read_bytes())
    for name, code in (("bomb", FORK_BOMB), ("splitter", MEMORY_SPLITTER), ("daemons", DAEMONS)):
        add_cell(MATH, subs / f"{name}.ipynb", code)
    out = tmp_path_factory.mktemp("out")
    summary = grade_folder(subs, math_bundle, out, workers=2, limits=WHOLE_LIMITS, progress=False)
    left = processes_named(DAEMON)  # right after grading: nothing the class started may still run
    recs = {json.loads(p.read_text())["student"]: json.loads(p.read_text()) for p in (out / "results").glob("*.json")}
    return {"summary": summary, "recs": recs, "daemons_left": left}


def test_greedy_submissions_leave_honest_ones_their_full_marks(greedy_class):
    recs = greedy_class["recs"]
    assert greedy_class["summary"]["errors"] == []
    assert {name: rec["total"] for name, rec in recs.items()} == {n: 10 for n in ("honest1", "honest2", "bomb",
                                                                                  "splitter", "daemons")}


def test_a_submission_runs_at_most_its_process_limit_at_once_and_none_outlives_it(greedy_class):
    recs = greedy_class["recs"]
    if recs["bomb"]["whole_limits"] == "per process only":
        pytest.skip("no cgroup and not root: no per-submission process limit here (documented fallback)")
    assert printed(recs["bomb"], "FORKED") < WHOLE_LIMITS.processes
    assert printed(recs["daemons"], "DAEMONS") < WHOLE_LIMITS.processes  # 300 asked for
    assert greedy_class["daemons_left"] == []
    assert any("refused" in n for n in recs["bomb"]["notes"]) or "RLIMIT_NPROC" in recs["bomb"]["whole_limits"]


def test_a_submissions_processes_share_one_memory_limit(greedy_class):
    rec = greedy_class["recs"]["splitter"]
    if "cgroup" not in rec["whole_limits"]:
        pytest.skip("no writable cgroup: memory is limited per process only (documented fallback)")
    assert printed(rec, "HELD") * 250 <= WHOLE_LIMITS.memory_mb  # at most one 250 MB child at a time
    assert rec["usage"]["memory_peak_mb"] <= WHOLE_LIMITS.memory_mb + 64
    assert any("together used more than 300 MB" in n for n in rec["notes"]), rec["notes"]


def test_without_a_cgroup_a_root_grader_still_limits_processes_per_submission(math_bundle, tmp_path, monkeypatch):
    monkeypatch.setenv("AIGC_CGROUP", "off")  # the fallback: a uid of its own and RLIMIT_NPROC
    bomb = add_cell(MATH, tmp_path / "bomb.ipynb", FORK_BOMB)
    honest = tmp_path / "honest.ipynb"
    honest.write_bytes(MATH.read_bytes())
    recs = grade_single([bomb, honest], math_bundle, WHOLE_LIMITS)
    assert [r["total"] for r in recs] == [10, 10]
    if "RLIMIT_NPROC" not in recs[0]["whole_limits"]:
        pytest.skip("not root with the full jail: no fallback process limit (documented)")
    assert "cgroup" not in recs[0]["whole_limits"]
    assert printed(recs[0], "FORKED") < WHOLE_LIMITS.processes


def test_a_submission_starts_from_a_minimal_environment(math_bundle, tmp_path, monkeypatch):
    secret = secrets.token_hex(16)
    monkeypatch.setenv("INSTRUCTOR_API_TOKEN", secret)  # what an instructor's shell might hold
    snoop = add_cell(MATH, tmp_path / "snoop.ipynb", "import os\nprint('ENV', sorted(os.environ.items()))")
    rec = grade_single([snoop], math_bundle, LIMITS)[0]
    assert rec["total"] == 10
    line = next(line for line in rec["output_tail"].splitlines() if line.startswith("ENV "))
    assert secret not in line and "INSTRUCTOR_API_TOKEN" not in line
    names = set(re.findall(r"\('(\w+)', ", line))
    assert names <= {"PATH", "HOME", "TMPDIR", "LANG", "LC_ALL", "USER", "LOGNAME", "MPLBACKEND", "AIGC_GRADING",
                     "OMP_NUM_THREADS", "MKL_NUM_THREADS", "PYTHONDONTWRITEBYTECODE", "MPLCONFIGDIR", "AIGC_CACHE",
                     "PYTHONPATH"}, names
