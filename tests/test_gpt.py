"""The tiny GPT: attention is the library's, causal masking hides the future, the KV cache changes no token."""

import math
from itertools import pairwise

import torch
import torch.nn.functional as F

from aigc_course import gpt, text


def tiny(**kw) -> gpt.GPT:
    torch.manual_seed(0)
    return gpt.GPT(gpt.GPTConfig(vocab_size=11, context=16, n_layer=2, n_embd=16, n_head=2, **kw)).eval()


def test_attention_matches_scaled_dot_product_attention_outputs_and_gradients():
    torch.manual_seed(0)
    q, k, v = (torch.randn(2, 3, 7, 8, dtype=torch.float64, requires_grad=True) for _ in range(3))
    for causal in (True, False):
        ours = gpt.attention(q, k, v, causal=causal)
        ref = F.scaled_dot_product_attention(q, k, v, is_causal=causal)
        torch.testing.assert_close(ours, ref)
        grads = torch.autograd.grad(ours.square().sum(), (q, k, v))
        ref_grads = torch.autograd.grad(ref.square().sum(), (q, k, v))
        for a, b in zip(grads, ref_grads, strict=True):
            torch.testing.assert_close(a, b)


def test_the_fused_path_equals_the_hand_written_one_with_and_without_a_cache():
    torch.manual_seed(0)
    for lq in (7, 3, 1):                            # the whole window; the last 3 or 1 positions, as with a cache
        q = torch.randn(2, 3, lq, 8, dtype=torch.float64)
        k, v = (torch.randn(2, 3, 7, 8, dtype=torch.float64) for _ in range(2))
        for causal in (True, False):
            torch.testing.assert_close(gpt.fused_attention(q, k, v, causal), gpt.attention(q, k, v, causal))
    hand, fused = tiny(fused=False), tiny()
    ids = torch.randint(0, 11, (2, 12), generator=torch.Generator().manual_seed(3))
    torch.testing.assert_close(fused(ids), hand(ids), atol=1e-5, rtol=1e-5)
    assert torch.equal(fused.continue_ids(torch.tensor([1, 2]), 20, seed=0),
                       hand.continue_ids(torch.tensor([1, 2]), 20, seed=0))


def test_changing_a_later_token_never_changes_an_earlier_output():
    model = tiny()
    ids = torch.randint(0, 11, (1, 12), generator=torch.Generator().manual_seed(1))
    for t in range(12):
        changed = ids.clone()
        changed[0, t] = (changed[0, t] + 1) % 11
        a, b = model(ids), model(changed)
        torch.testing.assert_close(a[:, :t], b[:, :t])
        assert not torch.allclose(a[:, t:], b[:, t:])  # and the change is seen from its own position on


def test_kv_cache_samples_the_same_tokens_as_recomputing():
    model = tiny()
    prompt = torch.tensor([1, 2, 3])
    for seed in range(3):
        cached = model.continue_ids(prompt, 30, seed=seed, cache=True)   # 33 > context 16: the cache is dropped past it
        fresh = model.continue_ids(prompt, 30, seed=seed, cache=False)
        assert torch.equal(cached, fresh)
        assert torch.equal(cached[:3], prompt) and len(cached) == 33


def test_cached_logits_equal_uncached_logits():
    model = tiny()
    ids = torch.randint(0, 11, (2, 10), generator=torch.Generator().manual_seed(2))
    caches = [{} for _ in model.blocks]
    steps = [model(ids[:, :4], caches)] + [model(ids[:, t:t + 1], caches, start=t) for t in range(4, 10)]
    torch.testing.assert_close(torch.cat(steps, dim=1), model(ids), atol=1e-5, rtol=1e-5)


def test_bits_per_char_of_a_uniform_model_is_log2_of_the_vocabulary():
    model = tiny()
    for p in model.head.parameters():
        torch.nn.init.zeros_(p)                                  # every logit 0: the uniform distribution
    ids = torch.randint(0, 11, (400,), generator=torch.Generator().manual_seed(3))
    assert abs(gpt.bits_per_token(model, ids, length=16) - math.log2(11)) < 1e-6


def test_training_lowers_held_out_bits_per_char_on_real_text():
    vocab = text.Vocabulary(text.topics_split("train"))
    ids = vocab.encode(text.topics_split("train")[:20_000])
    held = vocab.encode(text.topics_split("held_out")[:3_000])
    model = gpt.GPT(gpt.GPTConfig(len(vocab), context=32, n_layer=1, n_embd=32, n_head=2))
    before = gpt.bits_per_token(model, held, length=32)
    history = gpt.train_gpt(model, ids, gpt.TrainConfig(steps=60, length=32, warmup=10), held, eval_every=60,
                            progress=False)
    # seeds 0-2 of this recipe: from about log2(V) = 6.6 to about 3.4; far more than 1 bit is the margin
    assert history["held_out_bpc"][-1] < before - 1.0


def test_warm_up_then_cosine_learning_rate():
    config = gpt.TrainConfig(steps=100, lr=1e-3, warmup=10, final_lr=1e-5)
    rates = [gpt.learning_rate(s, config) for s in range(100)]
    assert rates[0] == 1e-4 and abs(rates[9] - 1e-3) < 1e-12 and max(rates) <= 1e-3
    assert all(a >= b for a, b in pairwise(rates[10:])) and abs(rates[-1] - 1e-5) < 1e-6


def test_the_course_sampler_draws_from_the_gpt_as_from_the_gru():
    torch.manual_seed(0)
    vocab = text.Vocabulary("abcdefghij")
    model = gpt.GPT(gpt.GPTConfig(vocab_size=len(vocab), context=16, n_layer=1, n_embd=16, n_head=2)).eval()
    drawn = text.generate(model, vocab, "abc", 40, temperature=0.7, top_p=0.9, seed=3)
    assert drawn.startswith("abc") and len(drawn) == 43
    assert drawn == text.generate(model, vocab, "abc", 40, temperature=0.7, top_p=0.9, seed=3)
    greedy = text.generate(model, vocab, "abc", 20, temperature=0.0)
    ids = model.continue_ids(vocab.encode("abc"), 20, temperature=0.0)
    assert greedy == vocab.decode(ids)


def test_train_entry_writes_a_resumable_checkpoint_that_samples(tmp_path):
    from aigc_course.checkpoint import load_checkpoint

    path = gpt.train("gpt", steps=2, seed=0, out=tmp_path, progress=False)
    model, extra = load_checkpoint(path, with_extra=True)
    assert isinstance(model, gpt.GPT) and model.config.positions and extra["steps"] == 2
    assert extra["history"]["step"] == [2] and extra["history"]["cpu_s"][0] > 0
    resumed = gpt.train("gpt", steps=3, seed=0, out=tmp_path / "more", resume=path, progress=False)
    model, extra = load_checkpoint(resumed, with_extra=True)
    assert extra["steps"] == 3 and extra["history"]["step"] == [2, 3]
    vocab = text.Vocabulary(text.topics_split("train"))
    assert text.generate(model, vocab, "The ", 10, seed=0).startswith("The ")
    assert not load_checkpoint(gpt.train("gpt-nopos", steps=1, out=tmp_path, progress=False)).config.positions


def test_train_history_counts_training_cpu_seconds_only():
    vocab = text.Vocabulary("abcdefghij")
    ids = torch.randint(0, len(vocab), (500,), generator=torch.Generator().manual_seed(0))
    model = gpt.GPT(gpt.GPTConfig(len(vocab), context=16, n_layer=1, n_embd=16, n_head=2))
    history = gpt.train_gpt(model, ids, gpt.TrainConfig(steps=6, batch_size=4, length=16, warmup=2), ids,
                            eval_every=2, progress=False)
    assert history["step"] == [2, 4, 6] and len(history["cpu_s"]) == 3
    assert 0 < history["cpu_s"][0] < history["cpu_s"][1] < history["cpu_s"][2]
    gru = text.CharModel(text.CharModelConfig(len(vocab), embed_dim=8, hidden_dim=16))   # any ids -> logits model
    assert len(gpt.train_gpt(gru, ids, gpt.TrainConfig(steps=2, batch_size=4, length=16, warmup=1),
                             progress=False)["loss"]) == 1


def test_a_two_way_model_sees_later_tokens_and_a_causal_one_does_not():
    ids = torch.randint(0, 11, (1, 12), generator=torch.Generator().manual_seed(4))
    changed = ids.clone()
    changed[0, -1] = (changed[0, -1] + 1) % 11
    for causal in (True, False):
        model = tiny(causal=causal)
        assert torch.allclose(model(ids)[:, 0], model(changed)[:, 0]) == causal


def test_mask_tokens_chooses_the_rate_and_corrupts_80_10_10():
    batch = torch.randint(0, 50, (200, 100), generator=torch.Generator().manual_seed(5))
    corrupted, chosen = gpt.mask_tokens(batch, 50, 50, torch.Generator().manual_seed(6))
    assert abs(chosen.float().mean().item() - 0.15) < 0.01
    assert torch.equal(corrupted[~chosen], batch[~chosen])              # unchosen positions are untouched
    masked, kept = (corrupted[chosen] == 50).float().mean().item(), (corrupted[chosen] == batch[chosen]).float().mean()
    assert abs(masked - 0.8) < 0.02 and 0.08 < kept.item() < 0.14          # 10% kept, plus random ids equal by chance


def test_masked_training_learns_to_fill_blanks_from_both_sides():
    # runs of 40 equal ids: a blank is implied by its neighbours on either side (first, middle and last position)
    ids = torch.randint(0, 10, (60,), generator=torch.Generator().manual_seed(0)).repeat_interleave(40)
    torch.manual_seed(0)
    model = gpt.GPT(gpt.GPTConfig(11, context=16, n_layer=1, n_embd=32, n_head=2, causal=False))
    gpt.train_masked(model, ids, gpt.TrainConfig(steps=80, batch_size=16, length=16, lr=3e-3, warmup=10), mask_id=10,
                     progress=False)
    blanks = torch.zeros(16, dtype=torch.bool)
    blanks[[0, 7, 15]] = True
    filled = sum(torch.equal(gpt.fill_in(model, ids[s:s + 16], blanks, 10), ids[s:s + 16]) for s in range(0, 2400, 40))
    # seeds 0-2: 57 / 45 / 57 of the 60 runs have all three blanks right (guessing: about 0)
    assert filled >= 35


def test_bits_per_character_divides_by_the_characters_the_tokens_spell():
    from aigc_course import bpe

    model = tiny()
    ids = torch.randint(0, 11, (161,), generator=torch.Generator().manual_seed(7))
    vocab = text.Vocabulary("abcdefghij")                      # 11 symbols with its '?': one character per token
    assert abs(gpt.bits_per_character(model, ids, vocab.decode, length=16) - gpt.bits_per_token(model, ids, 16)) < 1e-5
    tok = bpe.BPE()
    tok.pieces = tok.pieces[:9] + [b"ab", b"xyz"]              # tokens 9 and 10 spell 2 and 3 characters
    per_token = gpt.bits_per_token(model, ids, 16)
    spelled = len(tok.decode(ids[1:161]))
    assert abs(gpt.bits_per_character(model, ids, tok.decode, length=16) - per_token * 160 / spelled) < 1e-4


def test_seconds_per_step_times_a_copy_and_leaves_the_model_untrained():
    model = tiny()
    before = {n: p.clone() for n, p in model.named_parameters()}
    ids = torch.randint(0, 11, (200,), generator=torch.Generator().manual_seed(5))
    assert gpt.seconds_per_step(model, ids, batch_size=4, length=12, steps=2, rounds=2) > 0
    assert all(torch.equal(p, before[n]) for n, p in model.named_parameters())
