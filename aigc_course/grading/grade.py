"""Grade a folder of submitted notebooks: scores CSV, per-student feedback and Gradescope results.

Outputs under OUT/:
    results/<student>.json              everything the grader found (written atomically; resume key)
    feedback/<student>.md               what passed and failed, with messages; never hidden test code
    gradescope/<student>/results.json   Gradescope's autograder format
    grades.csv                          one row per student, one column per question, total
    summary.md                          counts, late and missing submissions, isolation level

A run that is killed (even kill -9) and started again skips every student whose result file
exists for the same submission (same SHA-256) and rebuilds the CSV from the result files, so no
row is lost or duplicated.
"""

from __future__ import annotations

import csv
import fcntl
import hashlib
import io
import json
import os
import select
import sys
import time
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path

from aigc_course.grading import provenance
from aigc_course.grading.authoring import code_cells
from aigc_course.grading.check import Test, collect_tests, run_test
from aigc_course.grading.errors import SandboxDied
from aigc_course.grading.jail import Limits
from aigc_course.grading.session import RemoteStudent
from aigc_course.grading.worker import Worker
from aigc_course.grading.zygote import Zygote
from aigc_course.utils import write_atomic

RESULT_FORMAT = 1


# --------------------------------------------------------------------------- bundle and tests


def load_assignment(bundle: str | os.PathLike) -> dict:
    """Read a grader bundle (the folder `assign` wrote, or its assignment.json)."""
    path = Path(bundle)
    if path.is_dir():
        path = path / "assignment.json"
    meta = json.loads(path.read_text())
    if meta.get("format") != 1:
        raise ValueError(f"{path}: not a grader bundle of format 1")
    return meta


def rules(meta: dict) -> dict:
    """The bundle's own-work rules (empty for a bundle written before they existed)."""
    return {"graded": meta.get("graded", []), "reference_modules": meta.get("reference_modules", [])}


# --------------------------------------------------------------------------- one submission


def grade_notebook(path: str | os.PathLike, tests: list[Test], questions: dict[str, float], zygote: Zygote,
                   limits: Limits, rules: dict | None = None) -> dict:
    """Grade one notebook in a fresh sandboxed process; return its result record.

    Questions are graded in order, each with its own time limit: a question whose tests hang or kill the
    process scores what it had, and the next question gets a fresh run of the notebook. `rules` (from
    the bundle: "graded", "reference_modules") withholds the points of functions the submission did not
    write itself (see ``provenance``); public tests of a question with hidden tests count only when at
    least one of its hidden tests passes, since a constant can match a public test's known inputs.
    """
    level = zygote.level  # waits for a cold zygote, so that its start-up is not billed to this student
    t0 = time.monotonic()
    notes: list[str] = []
    results: list[dict] = []
    cell_errors: list[dict] = []
    sessions: list = []
    output = ""
    rules = rules or {}
    order = {q: i for i, q in enumerate(questions)}
    by_question: dict[str, list[Test]] = {}
    for t in sorted(tests, key=lambda t: (order.get(t.question, len(order)), t.hidden)):
        by_question.setdefault(t.question, []).append(t)
    try:
        cells = code_cells(path)
    except ValueError as e:
        notes.append(f"Not graded: {e}.")
        cells = None
    if cells is not None:
        borrowed = provenance.borrowed(cells, set(rules.get("graded", [])), rules.get("reference_modules", []))
        session, cells_ran = None, True
        try:
            for question, q_tests in by_question.items():
                if session is not None and session.dead and cells_ran:   # the last question's tests stopped it
                    notes.append(f"{question} and later questions were graded in a fresh run of your notebook: "
                                 f"an earlier question's tests stopped it ({session.dead}).")
                    session.close()
                    output += session.output_text()
                    sessions.append(session)
                    session = None
                if session is None:
                    session = zygote.spawn(cells, limits)
                    level = session.level
                    try:
                        errors = session.wait_ready()
                        cell_errors = cell_errors or errors
                    except SandboxDied as e:   # a rerun would fail the same way: the tests say "not graded"
                        notes.append(f"Your notebook did not finish running: {e}.")
                        cells_ran = False
                session.start_question()
                student = RemoteStudent(session)
                for t in q_tests:
                    why = next((borrowed[n] for n in sorted(t.uses) if n in borrowed), None)
                    results.append(run_test(t, student) if why is None else
                                   {"question": t.question, "name": t.name, "points": t.points, "score": 0.0,
                                    "passed": False, "message": f"no points: {why}", "hint": t.hint,
                                    "hidden": t.hidden})
        finally:
            if session is not None:
                session.close()
                output += session.output_text()
                sessions.append(session)
        if session is not None and session.dead and not notes:
            notes.append(f"Grading stopped early: {session.dead}.")
    usage = whole_usage(s.usage for s in sessions)
    if usage.get("forks_refused"):
        notes.append(f"{usage['forks_refused']} attempts to start a process or thread were refused: a submission may "
                     f"run {limits.processes} at once.")
    if usage.get("oom_kills"):
        notes.append(f"A process was stopped because the submission's processes together used more than "
                     f"{limits.memory_mb} MB of memory.")
    if cells is None:
        results = [{"question": t.question, "name": t.name, "points": t.points, "score": 0.0, "passed": False,
                    "message": "not graded: the file is not a valid notebook", "hint": "", "hidden": t.hidden}
                   for t in tests]
    withhold_unconfirmed_public_points(results)
    per_q = {q: {"score": 0.0, "points": pts} for q, pts in questions.items()}
    for r in results:
        per_q.setdefault(r["question"], {"score": 0.0, "points": 0.0})["score"] += r["score"]
    return {"format": RESULT_FORMAT, "tests": results, "questions": per_q,
            "total": round(sum(q["score"] for q in per_q.values()), 4),
            "max_total": round(sum(q["points"] for q in per_q.values()), 4),
            "notes": notes, "cell_errors": cell_errors, "output_tail": output[-4000:],
            "isolation": level, "whole_limits": zygote.whole_limits, "usage": usage,
            "seconds": round(time.monotonic() - t0, 3)}


def whole_usage(reports) -> dict:
    """Combine the cgroup reports of a submission's runs: the peaks' maximum, the counts' sum."""
    total: dict = {}
    for r in reports:
        for k, v in r.items():
            if v is not None:
                total[k] = max(total.get(k, 0), v) if "peak" in k else total.get(k, 0) + v
    return total


def withhold_unconfirmed_public_points(results: list[dict]) -> None:
    """Zero the passed public tests of each question whose hidden tests all failed (in place)."""
    hidden_passed: dict[str, bool] = {}
    for r in results:
        if r["hidden"]:
            hidden_passed[r["question"]] = hidden_passed.get(r["question"], False) or r["passed"]
    for r in results:
        if not r["hidden"] and r["passed"] and hidden_passed.get(r["question"]) is False:
            r["score"], r["passed"] = 0.0, False
            r["message"] = ("passed, but earns its points only when a hidden test of the same question passes "
                            "too: the public inputs are known, so a constant could match them")


# --------------------------------------------------------------------------- reports


def feedback_markdown(student: str, rec: dict) -> str:
    """Per-student feedback: scores, each test's verdict and message. Never any test's source."""
    lines = [f"# Feedback for {md_text(student, 120)}", "",
             f"**Total: {rec['total']:g} / {rec['max_total']:g}**" + ("  (submitted late)" if rec.get("late") else ""),
             "", "| question | score | points |", "|---|---|---|"]
    for q, s in rec["questions"].items():
        lines.append(f"| {q} | {s['score']:g} | {s['points']:g} |")
    lines.append("")
    for note in rec["notes"]:
        lines.append(f"> {md_text(note, 600)}")
    if rec["notes"]:
        lines.append("")
        tail = rec.get("output_tail", "").strip().splitlines()[-12:]
        if tail:
            lines += ["The last lines your notebook printed:", "", "```text", *(t[:200] for t in tail), "```", ""]
    if rec["cell_errors"]:
        lines.append("Code cells of your notebook that raised an error when run top to bottom "
                     "(counting code cells only):")
        for e in rec["cell_errors"]:
            lines.append(f"- code cell {md_text(e.get('cell'), 10)}: {md_text(e.get('error'))}")
        lines.append("")
    for q in rec["questions"]:
        lines.append(f"## {q}")
        for r in (r for r in rec["tests"] if r["question"] == q):
            kind = "hidden test" if r["hidden"] else "public test"
            verdict = "passed" if r["passed"] else "FAILED"
            lines.append(f"- {verdict}: `{r['name']}` ({kind}, {r['score']:g}/{r['points']:g})")
            if not r["passed"]:
                lines.append(f"  - {md_text(r['message'], 600)}")
                if r.get("hint") and not r["message"].startswith("not graded"):
                    lines.append(f"  - hint: {r['hint']}")
        lines.append("")
    return "\n".join(lines)


def gradescope_json(rec: dict) -> str:
    """The Gradescope autograder results.json for one student."""
    tests = [{"name": f"{r['question']}: {r['name']}", "score": r["score"], "max_score": r["points"],
              "output": "passed" if r["passed"] else r["message"], "visibility": "visible"}
             for r in rec["tests"]]
    return json.dumps({"score": rec["total"], "execution_time": rec["seconds"],
                       "output": "\n".join(rec["notes"]) or "graded", "tests": tests}, indent=1)


def write_csv(out: Path, questions: dict, missing: list[str]) -> Path:
    """Rebuild grades.csv from results/*.json (one row per student, atomically)."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["student", *questions, "total", "max_total", "status"])
    max_total = sum(questions.values())
    for path in sorted((out / "results").glob("*.json")):
        rec = json.loads(path.read_text())
        status = "late" if rec.get("late") else "graded"
        w.writerow([csv_cell(rec["student"]), *(f"{rec['questions'].get(q, {}).get('score', 0):g}" for q in questions),
                    f"{rec['total']:g}", f"{rec['max_total']:g}", status])
    for s in missing:
        w.writerow([csv_cell(s), *("0" for _ in questions), "0", f"{max_total:g}", "missing"])
    write_atomic(out / "grades.csv", buf.getvalue())
    return out / "grades.csv"


def display_name(name: str) -> str:
    """Return a file name as printable UTF-8 text (undecodable bytes shown as \\xNN, control characters escaped)."""
    raw = os.fsencode(name)
    text = raw.decode("utf-8", errors="backslashreplace")
    return "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text)


def result_key(student: str) -> str:
    """Return the file name stem for a student's results: readable, and distinct for distinct names."""
    readable = "".join(c if c.isascii() and (c.isalnum() or c in "-_") else "_" for c in student)[:60]
    return f"{readable}-{hashlib.sha256(os.fsencode(student)).hexdigest()[:12]}"


def find_submissions(folder: Path) -> tuple[dict[str, Path], dict[str, str]]:
    """Return (student -> notebook, refused name -> reason) for `folder/<student>.ipynb` or `folder/<student>/<one>.ipynb`.

    Links are refused (the grader must not follow them to another student's or the instructor's
    notebook), and so are two entries that would be the same student (`carol.ipynb` and `carol/`).
    """
    found: dict[str, Path] = {}
    refused: dict[str, str] = {}
    for p in sorted(folder.iterdir()):
        if p.name in (".", "..") or p.name.startswith("."):
            continue
        if p.is_symlink():
            refused[display_name(p.name)] = "a symbolic link (submit the notebook itself)"
            continue
        if p.is_file() and p.suffix == ".ipynb":
            student, nb = p.stem, p
        elif p.is_dir():
            nbs = sorted(q for q in p.glob("*.ipynb") if not q.name.startswith("."))
            if not nbs:
                continue
            if any(q.is_symlink() for q in nbs[:1]):
                refused[display_name(p.name)] = "its notebook is a symbolic link (submit the notebook itself)"
                continue
            student, nb = p.name, nbs[0]
        else:
            continue
        if student in found or display_name(student) in refused:
            found.pop(student, None)
            refused[display_name(student)] = "both a notebook and a folder of that name were submitted"
            continue
        found[student] = nb
    return found, refused


def csv_cell(text: str) -> str:
    """Return `text` safe for a spreadsheet: a leading =, +, -, @, tab or CR is escaped with a quote."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def md_text(text, limit: int = 300) -> str:
    """Return submission-controlled text capped at `limit` characters, on one line, with Markdown escaped."""
    text = " ".join(str(text).split())
    text = text[:limit] + (" [...]" if len(text) > limit else "")
    return "".join("\\" + c if c in "\\`*_[]<>|#~" else c for c in text)


# --------------------------------------------------------------------------- the whole folder


def grade_folder(submissions: str | os.PathLike, bundle: str | os.PathLike, out: str | os.PathLike,
                 workers: int = 2, limits: Limits | None = None, due: datetime | None = None,
                 roster: list[str] | None = None, progress: bool = True) -> dict:
    """Grade every notebook in `submissions`; resume where a previous run stopped. Return a summary."""
    meta = load_assignment(bundle)
    limits = limits or Limits()
    out = Path(out)
    (out / "results").mkdir(parents=True, exist_ok=True)
    with open(out / ".grading.lock", "a") as lock:  # released by the kernel however this process ends
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RuntimeError(f"{out} is being graded by another command right now; wait for it to end") from None
        for stale in out.glob("**/.*.tmp"):  # half-written by a run killed with -9 (never read: not *.json)
            stale.unlink(missing_ok=True)
        return _grade_folder_locked(meta, submissions, out, workers, limits, due, roster, progress)


def _grade_folder_locked(meta: dict, submissions, out: Path, workers: int, limits: Limits, due, roster,
                         progress: bool) -> dict:
    questions = meta["questions"]
    subs, refused = find_submissions(Path(submissions))
    for name, why in refused.items():
        print(f"refused: {name}: {why}", file=sys.stderr, flush=True)
    todo: dict[str, tuple[Path, str, bool, str]] = {}
    done = 0
    for student, path in subs.items():
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        late = bool(due and datetime.fromtimestamp(path.stat().st_mtime, timezone.utc) > due)
        res = out / "results" / f"{result_key(student)}.json"
        if res.exists():
            try:
                if json.loads(res.read_text()).get("sha256") == digest:
                    done += 1
                    continue
            except ValueError:
                pass  # a damaged result file is regraded
        todo[str(path)] = (path, student, late, digest)
    missing = sorted(set(roster or []) - set(subs))
    t0 = time.monotonic()
    errors: list[str] = []
    if todo:
        setup = {"public": meta["public_tests"], "hidden": meta["hidden_tests"], "questions": questions,
                 "limits": asdict(limits), "rules": rules(meta)}
        pool = [Worker(setup) for _ in range(max(1, min(workers, len(todo))))]
        queue, finished = list(todo), 0
        try:
            while queue or any(w.job for w in pool):
                for i, w in enumerate(pool):
                    if w.job is None and queue:
                        if w.proc.poll() is not None:  # it died on an earlier job: start another
                            w.close()
                            w = pool[i] = Worker(setup)
                        w.submit(queue.pop(0))
                busy = {w.resp_r: w for w in pool if w.job}
                for fd in select.select(list(busy), [], [])[0]:
                    w = busy[fd]
                    key = w.job
                    reply = w.receive()
                    finished += 1
                    path, student, late, digest = todo[key]
                    if "error" in reply:  # the grader itself failed (not the submission): retry on the next run
                        errors.append(display_name(student))
                        print(f"error: could not grade {display_name(student)} ({reply['error']}); "
                              "run the same command again to retry", file=sys.stderr, flush=True)
                        continue
                    rec = reply["rec"]
                    rec.update(student=display_name(student), file=str(path), sha256=digest, late=late,
                               graded_at=datetime.now(timezone.utc).isoformat(timespec="seconds"))
                    safe = result_key(student)
                    write_atomic(out / "feedback" / f"{safe}.md", feedback_markdown(rec["student"], rec))
                    write_atomic(out / "gradescope" / safe / "results.json", gradescope_json(rec))
                    write_atomic(out / "results" / f"{safe}.json", json.dumps(rec, indent=1))  # the resume key
                    write_csv(out, questions, missing)
                    if progress:
                        print(f"[{done + finished}/{len(subs)}] {rec['student']}: {rec['total']:g}/"
                              f"{rec['max_total']:g} ({rec['seconds']:.1f} s)", flush=True)
        finally:
            for w in pool:
                w.close()
    write_csv(out, questions, missing)
    recs = [json.loads(p.read_text()) for p in sorted((out / "results").glob("*.json"))]
    summary = {"graded": len(recs), "regraded_now": len(todo), "skipped_already_graded": done,
               "late": sorted(r["student"] for r in recs if r.get("late")), "missing": missing,
               "refused": refused,
               "isolation": sorted({r["isolation"] for r in recs}),
               "whole_limits": sorted({r.get("whole_limits", "") for r in recs} - {""}), "errors": sorted(errors),
               "seconds": round(time.monotonic() - t0, 2)}
    lines = [f"# Grading summary: {meta['name']}", "",
             f"- graded: {summary['graded']} ({summary['regraded_now']} in this run, "
             f"{summary['skipped_already_graded']} already done)",
             f"- isolation: {', '.join(summary['isolation']) or '-'}; a submission's processes together are "
             f"limited by: {', '.join(summary['whole_limits']) or '-'}",
             f"- late: {', '.join(summary['late']) or 'none'}",
             f"- missing: {', '.join(summary['missing']) or 'none'}",
             f"- refused (not graded): {'; '.join(f'{k} ({v})' for k, v in refused.items()) or 'none'}",
             f"- not graded because the grader failed (rerun to retry): {', '.join(errors) or 'none'}"]
    write_atomic(out / "summary.md", "\n".join(lines) + "\n")
    return summary


def grade_single(notebooks: list[str | os.PathLike], bundle: str | os.PathLike,
                 limits: Limits | None = None) -> list[dict]:
    """Grade a few notebooks in this process (one warm zygote); used by `assign` and the tests."""
    meta = load_assignment(bundle)
    tests = collect_tests(meta["public_tests"], meta["hidden_tests"])
    zygote = Zygote()
    try:
        return [grade_notebook(nb, tests, meta["questions"], zygote, limits or Limits(), rules(meta))
                for nb in notebooks]
    finally:
        zygote.close()
