"""The `aigc-course` command: `env`, `train`, `sample`, `eval`, `assign` and `grade`.

Each subcommand is a function ``cmd_NAME(args) -> int`` registered in ``build_parser``. ``TRAINERS`` maps each
model name of ``aigc-course train NAME`` to the family's ``train`` entry (which runs on ``aigc_course.engine``,
so the same command works under ``torchrun``). A chapter that adds a family adds its names there.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
from collections.abc import Callable
from pathlib import Path

from aigc_course import diffusion, gan, gpt, vae


def cmd_env(args: argparse.Namespace) -> int:
    """Print what an instructor asks a stuck learner for: versions, device, threads, data, cache."""
    import torch
    import torchvision

    import aigc_course
    from aigc_course.data import DATA_ENV, cache_dir, data_source
    from aigc_course.utils import device

    dev = device()
    rows = [
        ("aigc_course", f"{aigc_course.__version__} ({os.path.dirname(aigc_course.__file__)})"),
        ("python", f"{platform.python_version()} ({sys.executable})"),
        ("platform", platform.platform()),
        ("torch", torch.__version__),
        ("torchvision", torchvision.__version__),
        ("device", str(dev) + (f" ({torch.cuda.get_device_name(dev)})" if dev.type == "cuda" else "")),
        ("cpu cores", str(os.cpu_count())),
        ("torch threads", str(torch.get_num_threads())),
        ("data source", f"{data_source()} (set {DATA_ENV}=bundled|mnist|PATH.npz to change)"),
        ("cache folder", str(cache_dir())),
    ]
    for name in ("numpy", "matplotlib", "ipywidgets", "mlxtend", "tqdm"):
        try:
            mod = __import__(name)
            rows.append((name, getattr(mod, "__version__", "?")))
        except ImportError:
            rows.append((name, "MISSING: run `make test` or `pip install -e .` in the course folder"))
    width = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"{k:<{width}}  {v}")
    if args.check_data:
        import time

        from aigc_course.data import load_digits

        t = time.perf_counter()
        x, y = load_digits("train")
        print(f"{'digits':<{width}}  train {tuple(x.shape)} loaded in {time.perf_counter() - t:.2f} s")
    return 0


# Model name -> its family's trainer, called as
#   train(kind=NAME, steps=int | None, seed=int, out=Path, data=str | None, progress=bool[, resume=Path]) -> Path
# (steps None = the course recipe's calibrated step count). Chapters register their models here.
TRAINERS: dict[str, Callable[..., Path]] = {
    **{kind: gan.train for kind in ("gan", "dcgan", "scgan", "cgan")},
    **{kind: vae.train for kind in ("vae", "convvae", "cvae", "pixelvae")},
    **{kind: diffusion.train for kind in ("flow", "ddpm")},
    **{kind: gpt.train for kind in ("gpt", "gpt-nopos")},
}


def load_model(path: str, needs: str | tuple[str, ...], what: str):
    """Return the model of the checkpoint at `path`; raise ValueError if it has none of the methods `needs` (`what` it is for)."""
    from aigc_course.checkpoint import load_checkpoint

    model = load_checkpoint(path)
    if not any(hasattr(model, name) for name in ((needs,) if isinstance(needs, str) else needs)):
        raise ValueError(f"{path} holds a {type(model).__name__}, which {what}")
    return model


def cmd_train(args: argparse.Namespace) -> int:
    """Train a course model from scratch and write its checkpoint to OUT/<model>.pt."""
    train = TRAINERS[args.model]
    resume = {"resume": Path(args.resume)} if args.resume else {}
    path = train(kind=args.model, steps=args.steps, seed=args.seed, out=Path(args.out), data=args.data,
                 progress=not args.quiet, **resume)
    if os.environ.get("RANK", "0") == "0":   # under torchrun, rank 0 alone reports (and wrote the file)
        print(f"checkpoint: {path}")
    return 0


def cmd_sample(args: argparse.Namespace) -> int:
    """Load a checkpoint and save `n` samples as a float tensor (N, 1, 28, 28) in [0, 1] (a text model: print `n` characters)."""
    import torch

    from aigc_course import text
    from aigc_course.utils import seed_everything

    model = load_model(args.checkpoint, ("sample", "next_logits"), "cannot sample")   # images, or text
    seed_everything(args.seed)
    if isinstance(model, gpt.GPT):   # a character model: continue the prompt with the course's sampler
        vocab = text.Vocabulary(text.topics_split("train"))
        print(text.draw(model, vocab, args.prompt, args.n, temperature=args.temperature, top_p=args.top_p,
                        generator=torch.Generator().manual_seed(args.seed)))
        return 0
    with torch.no_grad():
        samples = model.sample(args.n).detach().cpu().float().clamp(0, 1)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    torch.save(samples, out)
    print(f"saved {tuple(samples.shape)} samples in [0, 1] to {out}")
    return 0


def cmd_assign(args: argparse.Namespace) -> int:
    """Instructor notebook -> student notebook + grader bundle; refuse to release unless the solution scores 100%."""
    from aigc_course.grading.authoring import build_assignment
    from aigc_course.grading.grade import grade_single

    student, bundle = build_assignment(args.instructor, args.out)
    solution, stub = grade_single([args.instructor, student], bundle)
    print(f"student notebook: {student}\ngrader bundle:    {bundle}  (keep it private)")
    print(f"instructor solution: {solution['total']:g}/{solution['max_total']:g}; "
          f"untouched student notebook: {stub['total']:g}/{stub['max_total']:g} (isolation: {solution['isolation']})")
    if solution["total"] < solution["max_total"]:
        for t in solution["tests"]:
            if not t["passed"]:
                print(f"  FAIL {t['question']} {t['name']}: {t['message']}", file=sys.stderr)
        print("error: the instructor solution does not score full marks; fix it before release", file=sys.stderr)
        return 1
    if stub["total"] > 0:
        print("warning: the untouched student notebook scores above 0: some test passes without any work")
    return 0


def cmd_grade(args: argparse.Namespace) -> int:
    """Grade every notebook in SUBMISSIONS_DIR; resumable; writes grades.csv, feedback and results.json."""
    from datetime import datetime, timezone

    from aigc_course.grading.grade import grade_folder
    from aigc_course.grading.jail import Limits

    due = None
    if args.due:
        due = datetime.fromisoformat(args.due)
        due = due if due.tzinfo else due.replace(tzinfo=timezone.utc)
    roster = None
    if args.roster:
        with open(args.roster) as f:
            roster = [line.split(",")[0].strip() for line in f if line.strip() and line.split(",")[0].strip() != "student"]
    limits = Limits(wall_s=args.timeout, question_s=args.question_timeout,
                    cpu_s=int(args.timeout + args.question_timeout) + 5, memory_mb=args.memory_mb,
                    processes=args.max_processes)
    summary = grade_folder(args.submissions, args.assignment, args.out, workers=args.workers, limits=limits,
                           due=due, roster=roster, progress=not args.quiet)
    print(f"graded {summary['graded']} ({summary['regraded_now']} now, {summary['skipped_already_graded']} "
          f"already done) in {summary['seconds']:.1f} s; isolation: {', '.join(summary['isolation'])}")
    print(f"late: {', '.join(summary['late']) or 'none'}; missing: {', '.join(summary['missing']) or 'none'}")
    if summary["errors"]:
        print(f"not graded (grader failure, run again to retry): {', '.join(summary['errors'])}", file=sys.stderr)
        return 1
    print(f"grades: {args.out}/grades.csv  feedback: {args.out}/feedback/  gradescope: {args.out}/gradescope/")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    """Load a VAE checkpoint and print its held-out -ELBO and IWAE NLL in nats per image."""
    model = load_model(args.checkpoint, "elbo", "has no likelihood to evaluate")
    x, y = vae.heldout_digits(args.data)
    result = vae.evaluate(model, x, y, k=args.k, seed=args.seed)
    print(f"held-out digits (binarised, seed 0): {result}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="aigc-course", description="AIGC from principles to practice: course tools")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    p = sub.add_parser("env", help="print versions, device, threads, data source and cache folder")
    p.add_argument("--check-data", action="store_true", help="also load the digits and time it")
    p.set_defaults(func=cmd_env)

    p = sub.add_parser("train", help="train a course model from scratch and save a checkpoint")
    p.add_argument("model", choices=sorted(TRAINERS))
    p.add_argument("--steps", type=int, default=None, help="training steps (default: the course recipe)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="runs", help="folder for the checkpoint (default: runs/)")
    p.add_argument("--data", default=None, help="bundled (default), mnist, or PATH.npz")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--resume", default=None, metavar="CKPT",
                   help="carry on from this checkpoint (written every 500 steps) up to --steps")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("sample", help="draw samples from a checkpoint into a .pt tensor file")
    p.add_argument("checkpoint")
    p.add_argument("-n", type=int, default=64, help="number of samples (characters, for a text model)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="samples.pt", help="where image samples go (a text model prints instead)")
    p.add_argument("--prompt", default="The ", help="text models: the text to continue")
    p.add_argument("--temperature", type=float, default=0.8, help="text models: sampling temperature")
    p.add_argument("--top-p", type=float, default=0.95, help="text models: nucleus (top-p) threshold")
    p.set_defaults(func=cmd_sample)

    p = sub.add_parser("assign", help="make the student notebook and grader bundle from an instructor notebook")
    p.add_argument("instructor", help="the instructor notebook (solutions and test markers)")
    p.add_argument("--out", required=True, help="folder for NAME.ipynb (students) and NAME.grader/ (private)")
    p.set_defaults(func=cmd_assign)

    p = sub.add_parser("grade", help="grade a folder of submitted notebooks in sandboxed processes")
    p.add_argument("submissions", help="folder of STUDENT.ipynb files or STUDENT/ folders")
    p.add_argument("--assignment", required=True, help="the grader bundle folder written by `assign`")
    p.add_argument("--out", required=True, help="folder for grades.csv, feedback/, gradescope/, results/")
    p.add_argument("--workers", type=int, default=2, help="parallel grading processes (default 2)")
    p.add_argument("--timeout", type=float, default=120.0,
                   help="wall-clock seconds for running a submission's cells (default 120)")
    p.add_argument("--question-timeout", type=float, default=60.0,
                   help="wall-clock seconds for one question's tests; a hang costs that question only (default 60)")
    p.add_argument("--memory-mb", type=int, default=2048,
                   help="memory a submission may add, all its processes together where a cgroup is available (default 2048)")
    p.add_argument("--max-processes", type=int, default=64,
                   help="processes and threads a submission may run at once (default 64)")
    p.add_argument("--due", default=None, help="deadline, ISO 8601 (UTC if no zone): later files are listed as late")
    p.add_argument("--roster", default=None, help="CSV or text file whose first column lists every student")
    p.add_argument("--quiet", action="store_true", help="no line per student")
    p.set_defaults(func=cmd_grade)

    p = sub.add_parser("eval", help="print a VAE checkpoint's held-out -ELBO and IWAE NLL (nats per image)")
    p.add_argument("checkpoint")
    p.add_argument("-k", type=int, default=500, help="importance samples per image (default 500)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data", default=None, help="bundled (default), mnist, or PATH.npz")
    p.set_defaults(func=cmd_eval)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "func"):
        parser.print_help()
        return 2
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # course errors carry a message that says what to do
        from aigc_course.checkpoint import CheckpointError
        from aigc_course.data import DataError

        if isinstance(e, (DataError, CheckpointError, FileNotFoundError, ValueError)):
            print(f"error: {e}", file=sys.stderr)
            return 1
        raise


if __name__ == "__main__":
    sys.exit(main())
