#!/usr/bin/env python
"""Applications benchmark (chapters 07 and 08): each model's training throughput and final metric, per seed.

Chapter 07: the text GRU (held-out bits per character vs a 5-gram), the conditional VAE used for
editing (inpainting and denoising error vs mean fill and blur), the next-frame model (per-frame
error vs copying the last frame) and the chatbot (exact match vs retrieval). Chapter 08: the same
conditional VAE as a source of synthetic training data (TSTR vs TRTR accuracy, near copies) and
the code model (share of generated lines that parse vs unigram and 5-gram models and real code).

  python benchmarks/bench_applications.py                 # the notebook's recipes, seeds 0 1 2 (about 10 min quiet)
  python benchmarks/bench_applications.py --seeds 0 --text-steps 3000   # does the GRU pass the 5-gram with longer training?
  python benchmarks/bench_applications.py --smoke         # a quick check that everything runs

Time is process CPU time divided by torch's thread count (an estimate of a quiet machine's wall time).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aigc_course import (  # noqa: E402
    codegen,
    dialogue,
    editing,
    load_digits,
    privacy,
    seed_everything,
    text,
    video,
)
from aigc_course.vae import VAE, binarize, recipe, train_vae  # noqa: E402


def clock() -> float:
    return time.process_time() / torch.get_num_threads()


def report(name: str, seed: int, steps: int, seconds: float, unit: str, metrics: dict[str, float]) -> None:
    shown = " | ".join(f"{k} {v:.4f}" for k, v in metrics.items())
    print(f"{name:12s} seed {seed} | {steps} steps in {seconds:.1f} s ({steps / seconds:.1f} {unit}) | {shown}", flush=True)


def bench_text(seed: int, steps: int) -> None:
    train, held = text.topics_split("train"), text.topics_split("held_out")
    vocab = text.Vocabulary(train)
    seed_everything(seed)
    model = text.CharModel(text.CharModelConfig(len(vocab), embed_dim=32, hidden_dim=128))
    t = clock()
    text.train_char_model(model, vocab.encode(train), steps, batch_size=64, length=64, lr=6e-3, seed=seed,
                          progress=False)
    seconds = clock() - t
    five = text.NGramModel(vocab, 5, 0.01).fit(train).bits_per_char(held)
    report("text GRU", seed, steps, seconds, "steps/s",
           {"held-out bpc": text.bits_per_char(model, vocab.encode(held)), "5-gram bpc": five})


def bench_editing(seed: int, steps: int) -> None:
    x, y = load_digits("train")
    xt, _ = load_digits("test")
    model_config, train_config = recipe("cvae", steps=steps, seed=seed)
    seed_everything(seed)
    model = VAE(model_config)
    t = clock()
    train_vae(model, x, train_config, y=y, progress=False)
    seconds = clock() - t
    orig, mask = xt[:100], editing.half_mask(100)
    noisy = editing.add_noise(orig, 0.4, seed=1)
    report("cVAE edit", seed, steps, seconds, "steps/s", {
        "inpaint MSE": editing.masked_mse(editing.inpaint(model, orig, mask), orig, 1 - mask),
        "mean-fill MSE": editing.masked_mse(editing.mean_fill(orig, mask, x.mean(0, keepdim=True)), orig, 1 - mask),
        "denoise MSE": editing.masked_mse(editing.denoise(model, noisy, 0.4), orig),
        "blur MSE": editing.masked_mse(editing.blur(noisy), orig)})
    # chapter 08: the same model's digits as training data, and how close they come to training digits
    g = torch.Generator().manual_seed(seed)
    y_synth = torch.arange(4000) % 10
    means = model.sample(4000, y_synth, generator=g)
    xt, yt = load_digits("test")
    result = privacy.tstr_trtr((binarize(means, g), y_synth), (x, y), (xt, yt), seed=seed)
    memo = privacy.memorisation_check(means[:1000], x, xt)
    report("cVAE data", seed, steps, seconds, "steps/s",
           {"TSTR acc": result.tstr, "TRTR acc": result.trtr, "near copies": memo.near_copies})


def bench_code(seed: int, steps: int) -> None:
    source = codegen.stdlib_code(codegen.CODE_MODULES)
    train, held = text.split_text(source, held_out_fraction=0.1)
    vocab = text.Vocabulary(source)
    seed_everything(seed)
    model = text.CharModel(text.CharModelConfig(len(vocab)))
    t = clock()
    text.train_char_model(model, vocab.encode(train), steps, lr=6e-3, final_lr=3e-4, seed=seed, progress=False)
    seconds = clock() - t
    share = codegen.snippet_parse_share   # as in chapter 08: 200 snippets of 120 characters
    ngram = {order: codegen.NGramModel(train, order) for order in (1, 5)}
    report("code GRU", seed, steps, seconds, "steps/s", {
        "GRU parse share": share([codegen.sample_chars(model, vocab, "\n", 120, seed=i) for i in range(200)]),
        "unigram parse share": share([ngram[1].sample("\n", 120, seed=i) for i in range(200)]),
        "5-gram parse share": share([ngram[5].sample("\n", 120, seed=i) for i in range(200)]),
        "real code parse share": share(codegen.real_snippets(held, 200, 120))})


def bench_video(seed: int, steps: int) -> None:
    x, _ = load_digits("train")
    xt, _ = load_digits("test")
    train = video.moving_digits(video.shrink_digits(x), 600, frames=10, size=24, seed=0)
    test = video.moving_digits(video.shrink_digits(xt), 200, frames=10, size=24, seed=1)
    t = clock()
    model, _ = video.train_next_frame(train, video.NextFrameConfig(context=3, channels=12, size=24), steps=steps,
                                      batch_size=32, seed=seed, progress=False)
    seconds = clock() - t
    err = video.per_frame_mse(model.rollout(test[:, :3], 7), test[:, 3:])
    base = video.per_frame_mse(video.copy_last_frame(test[:, :3], 7), test[:, 3:])
    report("next frame", seed, steps, seconds, "steps/s",
           {"mean MSE": err.mean().item(), "copy-last MSE": base.mean().item(), "worst ratio": (err / base).max().item()})


def bench_dialogue(seed: int, steps: int) -> None:
    train, held = dialogue.build_dialogues()
    t = clock()
    bot, _ = dialogue.train_chatbot(train, steps=steps, seed=seed, progress=False)
    seconds = clock() - t
    ours, base = dialogue.score(bot, held), dialogue.score(dialogue.Retrieval(train), held)
    report("dialogue", seed, steps, seconds, "steps/s",
           {"seq2seq EM": ours["exact_match"], "retrieval EM": base["exact_match"]})


BENCHES = {"text": bench_text, "edit": bench_editing, "video": bench_video, "dialogue": bench_dialogue,
           "code": bench_code}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--text-steps", type=int, default=800)
    parser.add_argument("--smoke", action="store_true", help="a few steps of each model")
    parser.add_argument("--only", nargs="+", choices=list(BENCHES), default=list(BENCHES), help="which models to run")
    args = parser.parse_args(argv)
    steps = {"text": args.text_steps, "edit": 1200, "video": 500, "dialogue": 600, "code": 1000}
    if args.smoke:
        steps = {k: 10 for k in steps}
        args.seeds = args.seeds[:1]
    for seed in args.seeds:
        for name in args.only:
            BENCHES[name](seed, steps[name])
    return 0


if __name__ == "__main__":
    sys.exit(main())
