"""LoRA: at initialisation the model is unchanged; only the adapters train; the update has rank r."""

import torch

from aigc_course import gpt, lora


def models():
    torch.manual_seed(0)
    base = gpt.GPT(gpt.GPTConfig(vocab_size=11, context=16, n_layer=2, n_embd=16, n_head=2)).eval()
    adapted = gpt.GPT(base.config).eval()
    adapted.load_state_dict(base.state_dict())
    return base, lora.add_lora(adapted, r=2, alpha=4.0)


def test_lora_at_initialisation_leaves_outputs_unchanged():
    base, adapted = models()
    ids = torch.randint(0, 11, (2, 12), generator=torch.Generator().manual_seed(1))
    assert torch.equal(base(ids), adapted(ids))


def test_lora_trains_only_its_own_parameters():
    base, adapted = models()
    trainable = {n for n, p in adapted.named_parameters() if p.requires_grad}
    assert trainable and all(n.endswith((".A", ".B")) for n in trainable)
    before = {n: p.clone() for n, p in adapted.named_parameters()}
    ids = torch.randint(0, 11, (4, 13), generator=torch.Generator().manual_seed(2))
    gpt.train_gpt(adapted, ids.flatten(), gpt.TrainConfig(steps=5, batch_size=4, length=12, warmup=1),
                  progress=False)
    for n, p in adapted.named_parameters():
        assert torch.equal(p, before[n]) != (n in trainable), n
    n_train, n_total = lora.count_parameters(adapted)
    assert n_train == sum(p.numel() for n, p in adapted.named_parameters() if n in trainable) < n_total / 5


def test_lora_update_is_scaled_by_alpha_over_r_and_has_rank_r():
    layer = lora.LoRALinear(torch.nn.Linear(8, 6), r=2, alpha=6.0)
    torch.nn.init.normal_(layer.B)
    x = torch.randn(5, 8)
    delta = layer(x) - layer.base(x)
    torch.testing.assert_close(delta, 3.0 * x @ (layer.B @ layer.A).T)
    assert torch.linalg.matrix_rank(layer.B @ layer.A) == 2


def test_unfreeze_lets_exactly_the_layernorms_and_the_output_bias_train_again():
    _, adapted = models()
    adapters = {n for n, p in adapted.named_parameters() if p.requires_grad}
    lora.unfreeze(adapted)
    trainable = {n for n, p in adapted.named_parameters() if p.requires_grad}
    norms = {n for n, _ in adapted.named_parameters() if n.startswith("norm.") or ".norm" in n}
    assert len(norms) == 2 * (2 * 2 + 1)           # weight and bias of two norms per block, two blocks, and the last
    assert trainable == adapters | norms | {"head.bias"}


def test_fine_tune_at_best_rate_returns_the_model_and_rate_with_the_lowest_validation_loss():
    base, _ = models()
    ids = torch.randint(0, 11, (400,), generator=torch.Generator().manual_seed(4))
    config = gpt.TrainConfig(steps=4, batch_size=4, length=12, warmup=1)
    make = lambda: lora.add_lora(gpt.GPT(base.config), r=2, alpha=4.0)   # noqa: E731
    model, rate, validation = lora.fine_tune_at_best_rate(make, ids[:300], ids[300:], config, (1e-4, 1e-1))
    assert set(validation) == {1e-4, 1e-1} and validation[1e-4] != validation[1e-1]
    assert rate == min(validation, key=validation.get)
    assert gpt.bits_per_token(model, ids[300:], length=12) == validation[rate]
