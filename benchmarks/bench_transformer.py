#!/usr/bin/env python
"""Chapter 12's targets, measured side by side: the tiny GPT against chapter 07's GRU and the best n-gram.

  python benchmarks/bench_transformer.py            # 3 seeds, fixed step counts (about 90 s each, quiet 2 cores)
  python benchmarks/bench_transformer.py --smoke    # a few steps of each model: checks that everything runs

Step counts are fixed (never seconds); the CPU time each model actually used is measured with
time.process_time and printed beside its bits per character, with the curve of bpc against CPU seconds.
The n-gram is the course's interpolated Witten-Bell model (ngram.py), its order chosen on validation.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from aigc_course import gpt, lora, ngram, text
from aigc_course.utils import seed_everything


def timed(fit) -> tuple[object, float]:
    t0 = time.process_time()
    out = fit()
    return out, time.process_time() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help="a few steps of each model")
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    gpt_steps, gru_steps, ft_steps = (6, 20, 4) if args.smoke else (1200, 6000, 400)
    seeds = range(1 if args.smoke else args.seeds)
    train, held = text.topics_split("train"), text.topics_split("held_out")
    vocab = text.Vocabulary(train)
    ids, held_ids = vocab.encode(train), vocab.encode(held)

    ngram_text = train[:20_000] if args.smoke else train
    (n, _), t_ngram = timed(lambda: ngram.choose_order(vocab, ngram_text))
    ngram_bpc = ngram.NGramModel(vocab, n).fit(ngram_text).bits_per_char(held)
    print(f"n-gram     order {n} (chosen on validation)  held-out {ngram_bpc:.3f} bpc  fit+choose {t_ngram:.1f} s CPU")

    rows = {"GPT": [], "text GRU": []}
    for seed in seeds:
        seed_everything(seed)
        model = gpt.GPT(gpt.GPTConfig(len(vocab)))
        cfg = gpt.TrainConfig(steps=gpt_steps, seed=seed, warmup=min(100, gpt_steps // 2))
        t0 = time.process_time()
        h = gpt.train_gpt(model, ids, cfg, held_ids, eval_every=max(1, gpt_steps // 6), progress=False)
        rows["GPT"].append((h["held_out_bpc"][-1], time.process_time() - t0))
        seed_everything(seed)
        gru = text.CharModel(text.CharModelConfig(len(vocab), embed_dim=32, hidden_dim=128))
        t0 = time.process_time()
        h = text.train_char_model(gru, ids, gru_steps, held_ids, batch_size=64, length=64,
                                  eval_every=max(1, gru_steps // 6), seed=seed, progress=False, final_lr=1e-4)
        rows["text GRU"].append((h["held_out_bpc"][-1], time.process_time() - t0))
    for name, vals in rows.items():
        bpcs = [v[0] for v in vals]
        print(f"{name:<10} held-out bpc per seed {' '.join(f'{b:.3f}' for b in bpcs)}  mean {statistics.mean(bpcs):.3f}"
              f"  CPU s {statistics.mean(v[1] for v in vals):.1f}")
    margins = [r[0] - g[0] for g, r in zip(rows["GPT"], rows["text GRU"], strict=True)]
    print(f"target GPT >= 0.05 bpc better than GRU on every seed: margins {' '.join(f'{m:.3f}' for m in margins)}")

    # the key-value cache: same tokens, time at 256 generated characters
    prompt = vocab.encode("The ")
    (a, t_cache) = timed(lambda: model.sample(prompt, 256 if not args.smoke else 16, cache=True))
    (b, t_plain) = timed(lambda: model.sample(prompt, 256 if not args.smoke else 16, cache=False))
    print(f"KV cache   identical {bool(torch.equal(a, b))}  {t_plain:.2f} s -> {t_cache:.2f} s CPU, "
          f"speed-up {t_plain / max(t_cache, 1e-9):.2f}x")

    # fine-tuning on code: full vs LoRA vs from scratch
    code_train, code_held = text.split_text(text.stdlib_source(), 0.2)
    c_ids, c_held = vocab.encode(code_train), vocab.encode(code_held)
    base_bpc = gpt.bits_per_token(model, c_held)
    results = {}
    for name in ("full", "LoRA", "scratch"):
        seed_everything(0)
        m = gpt.GPT(model.config)
        if name != "scratch":
            m.load_state_dict(model.state_dict())
        if name == "LoRA":
            lora.add_lora(m, r=4, alpha=8.0)
        trainable, total = lora.count_parameters(m)
        ft = gpt.TrainConfig(steps=ft_steps, lr=4e-3 if name != "full" else 1e-3, warmup=min(20, ft_steps // 2))
        gpt.train_gpt(m, c_ids, ft, progress=False, eval_every=ft_steps)
        results[name] = gpt.bits_per_token(m, c_held)
        print(f"fine-tune {name:<8} trainable {trainable / total:6.2%}  held-out code {results[name]:.3f} bpc "
              f"(pre-trained, no tuning {base_bpc:.3f})")
    kept = (base_bpc - results["LoRA"]) / max(base_bpc - results["full"], 1e-9)
    print(f"LoRA keeps {kept:.2f} of full fine-tuning's gain (target >= 0.90)")


if __name__ == "__main__":
    main()
