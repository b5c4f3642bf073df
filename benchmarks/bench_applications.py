#!/usr/bin/env python
"""Applications benchmark (chapters 07 and 08): each model's training throughput and final metric, per seed.

Each model against the strongest simple baseline its chapter measures. Chapter 07: the text GRU
(held-out bits per character vs the Witten-Bell n-gram at the order chosen on validation pages), the
conditional VAE used for editing (inpainting vs mean fill and nearest neighbours; denoising vs blur and
tuned blur-then-threshold), the next-frame model (per-frame error vs copying the last frame, a blank
frame and the mean frame) and the chatbot (exact match vs TF-IDF retrieval without stop words).
Chapter 08: the same conditional VAE as synthetic training data (TSTR vs TRTR accuracy, near copies)
and the code model (parse share and novelty vs the validation-chosen n-gram and real code).

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
    ngram,
    privacy,
    seed_everything,
    text,
    video,
)
from aigc_course.data import stratified_indices  # noqa: E402
from aigc_course.vae import VAE, binarize, recipe, train_vae  # noqa: E402

ORDERS = tuple(range(2, 13))   # n-gram orders tried on validation (the smoke run tries two)


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
    order, _ = ngram.choose_order(vocab, text.topics_split("fit"), ORDERS, check_text=text.topics_split("validation"))
    counted = ngram.NGramModel(vocab, order).fit(train).bits_per_char(held)
    report("text GRU", seed, steps, seconds, "steps/s",
           {"held-out bpc": text.bits_per_char(model, vocab.encode(held)), f"{order}-gram bpc": counted})


def bench_editing(seed: int, steps: int) -> None:
    x, y = load_digits("train")
    xt, yt = load_digits("test")
    model_config, train_config = recipe("cvae", steps=steps, seed=seed)
    seed_everything(seed)
    model = VAE(model_config)
    t = clock()
    train_vae(model, x, train_config, y=y, progress=False)
    seconds = clock() - t
    orig = xt[stratified_indices(yt, 100, seed=0)]     # 10 of each digit: the split is sorted by class
    mask = editing.half_mask(100)
    noisy = editing.add_noise(orig, 0.4, seed=1)
    sigma, threshold = editing.tune_blur_threshold(x[:500], editing.add_noise(x[:500], 0.4, seed=2))  # not class-sorted: train
    report("cVAE edit", seed, steps, seconds, "steps/s", {
        "inpaint MSE": editing.masked_mse(editing.inpaint(model, orig, mask), orig, 1 - mask),
        "mean-fill MSE": editing.masked_mse(editing.mean_fill(orig, mask, x.mean(0, keepdim=True)), orig, 1 - mask),
        "neighbour-fill MSE": editing.masked_mse(editing.neighbour_fill(orig, mask, x), orig, 1 - mask),
        "denoise MSE": editing.masked_mse(editing.denoise(model, noisy, 0.4), orig),
        "blur MSE": editing.masked_mse(editing.blur(noisy), orig),
        "blur-threshold MSE": editing.masked_mse(editing.blur_threshold(noisy, sigma, threshold), orig)})
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
    order, _ = ngram.choose_order(vocab, train, ORDERS)
    counted = ngram.NGramModel(vocab, order).fit(train)

    def snippets(m) -> list[str]:   # as in chapter 08: 200 snippets of 120 characters, one sampler for both
        return [text.draw(m, vocab, "\n", 120, generator=torch.Generator().manual_seed(i))[1:] for i in range(200)]

    ours, theirs = snippets(model), snippets(counted)
    share = codegen.snippet_parse_share
    report("code GRU", seed, steps, seconds, "steps/s", {
        "GRU parse share": share(ours), "GRU novelty": codegen.novelty(ours, train),
        f"{order}-gram parse share": share(theirs), f"{order}-gram novelty": codegen.novelty(theirs, train),
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
    base = {"copy-last": video.copy_last_frame(test[:, :3], 7), "blank": video.blank_frames(test[:, :3], 7),
            "mean-frame": video.mean_frames(train, test[:, :3], 7)}
    base = {k: video.per_frame_mse(v, test[:, 3:]) for k, v in base.items()}
    best = torch.stack(list(base.values())).min(0).values    # the best baseline at each future frame
    report("next frame", seed, steps, seconds, "steps/s",
           {"mean MSE": err.mean().item(), **{f"{k} MSE": v.mean().item() for k, v in base.items()},
            "frames won vs best baseline": float((err < best).sum())})


def bench_dialogue(seed: int, steps: int) -> None:
    train, held = dialogue.build_dialogues()
    t = clock()
    bot, _ = dialogue.train_chatbot(train, steps=steps, seed=seed, progress=False)
    seconds = clock() - t
    ours, base = dialogue.score(bot, held), dialogue.score(dialogue.Retrieval(train), held)
    plain = dialogue.score(dialogue.Retrieval(train, stop_words=frozenset()), held)
    report("dialogue", seed, steps, seconds, "steps/s", {"seq2seq EM": ours["exact_match"],
           "TF-IDF (stop words out) EM": base["exact_match"], "TF-IDF (all words) EM": plain["exact_match"]})


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
        global ORDERS
        ORDERS = (2, 3)
        steps = {k: 10 for k in steps}
        args.seeds = args.seeds[:1]
    for seed in args.seeds:
        for name in args.only:
            BENCHES[name](seed, steps[name])
    return 0


if __name__ == "__main__":
    sys.exit(main())
