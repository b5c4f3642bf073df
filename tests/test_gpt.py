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
        cached = model.sample(prompt, 30, seed=seed, cache=True)   # 33 > context 16: the cache is dropped past it
        fresh = model.sample(prompt, 30, seed=seed, cache=False)
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
    ids = model.sample(vocab.encode("abc"), 20, temperature=0.0)
    assert greedy == vocab.decode(ids)
