"""A tiny GPT: causal self-attention written out, the transformer block, the model, a key-value cache.

Chapter 12 reads this file top to bottom: `attention` is the formula, `CausalSelfAttention` runs several
heads of it (with an optional cache of past keys and values), `Block` adds the MLP and residuals, `GPT`
stacks blocks on token and position embeddings. `train_gpt` is the plain loop. Sampling goes through the
course's one sampler, `text.filter_logits` (temperature, top-k, top-p).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from . import text


def attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, causal: bool = True) -> torch.Tensor:
    """Return softmax(q k^T / sqrt(d) + mask) v: q (..., Lq, d), k and v (..., Lk, d) -> (..., Lq, d).

    With `causal`, query i (the last Lq of Lk positions) sees keys 0..its own position and none after it.
    """
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if causal:
        lq, lk = q.shape[-2], k.shape[-2]
        future = torch.ones(lq, lk, dtype=torch.bool, device=q.device).triu(lk - lq + 1)
        scores = scores.masked_fill(future, float("-inf"))
    return F.softmax(scores, dim=-1) @ v


@dataclass
class GPTConfig:
    """Size of the GPT: vocabulary, context length, layers, width, heads; `positions=False` drops position embeddings."""

    vocab_size: int
    context: int = 128
    n_layer: int = 2
    n_embd: int = 128
    n_head: int = 4
    dropout: float = 0.0
    positions: bool = True


class CausalSelfAttention(nn.Module):
    """Multi-head causal self-attention: x (B, L, C) -> (B, L, C); `cache` holds past keys and values."""

    def __init__(self, config: GPTConfig):
        super().__init__()
        self.n_head = config.n_head
        self.qkv = nn.Linear(config.n_embd, 3 * config.n_embd)
        self.proj = nn.Linear(config.n_embd, config.n_embd)

    def forward(self, x: torch.Tensor, cache: dict | None = None) -> torch.Tensor:
        """Return the attended x (B, L, C); with a `cache` dict, append this call's keys/values and attend to all."""
        b, length, c = x.shape
        q, k, v = self.qkv(x).view(b, length, 3, self.n_head, c // self.n_head).permute(2, 0, 3, 1, 4)
        if cache is not None:
            if "k" in cache:
                k, v = torch.cat([cache["k"], k], dim=2), torch.cat([cache["v"], v], dim=2)
            cache["k"], cache["v"] = k, v
        y = attention(q, k, v, causal=True)                    # (B, heads, L, head width)
        return self.proj(y.transpose(1, 2).reshape(b, length, c))


class Block(nn.Module):
    """One transformer block (pre-norm): x + attention(norm(x)), then x + MLP(norm(x)); (B, L, C) -> (B, L, C)."""

    def __init__(self, config: GPTConfig):
        super().__init__()
        self.norm1 = nn.LayerNorm(config.n_embd)
        self.attn = CausalSelfAttention(config)
        self.norm2 = nn.LayerNorm(config.n_embd)
        self.mlp = nn.Sequential(nn.Linear(config.n_embd, 4 * config.n_embd), nn.GELU(),
                                 nn.Linear(4 * config.n_embd, config.n_embd), nn.Dropout(config.dropout))

    def forward(self, x: torch.Tensor, cache: dict | None = None) -> torch.Tensor:
        """Return the block's output (B, L, C)."""
        x = x + self.attn(self.norm1(x), cache)
        return x + self.mlp(self.norm2(x))


class GPT(nn.Module):
    """A decoder-only transformer: ids (B, L) with L <= context -> next-token logits (B, L, vocab_size)."""

    def __init__(self, config: GPTConfig):
        super().__init__()
        self.config = config
        self.tokens = nn.Embedding(config.vocab_size, config.n_embd)
        self.positions = nn.Embedding(config.context, config.n_embd)
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.n_layer))
        self.norm = nn.LayerNorm(config.n_embd)
        self.head = nn.Linear(config.n_embd, config.vocab_size)

    def forward(self, ids: torch.Tensor, caches: list[dict] | None = None, start: int = 0) -> torch.Tensor:
        """Return logits (B, L, vocab_size); `caches` (one dict per block) and `start` (position of ids[:, 0]) for KV caching."""
        x = self.tokens(ids)
        if self.config.positions:
            x = x + self.positions(torch.arange(start, start + ids.shape[1], device=ids.device))
        for i, block in enumerate(self.blocks):
            x = block(x, None if caches is None else caches[i])
        return self.head(self.norm(x))

    @torch.no_grad()
    def next_logits(self, ids: torch.Tensor, state: dict | None = None) -> tuple[torch.Tensor, dict]:
        """Return (logits (V,) of the token after `ids` (L,), the state): the course sampler's protocol (text.draw).

        The state holds every id so far and a key-value cache; past the context, the last `context` ids are re-read.
        """
        state = state or {"ids": ids[:0], "caches": [{} for _ in self.blocks]}
        new = ids.view(-1).to(self.head.weight.device)
        seen, start = torch.cat([state["ids"], new]), len(state["ids"])
        if len(seen) > self.config.context:
            state = {"ids": seen, "caches": [{} for _ in self.blocks]}
            return self(seen[-self.config.context:].view(1, -1))[0, -1].float().cpu(), state
        logits = self(new.view(1, -1), state["caches"], start=start)[0, -1]
        return logits.float().cpu(), {"ids": seen, "caches": state["caches"]}

    @torch.no_grad()
    def sample(self, prompt: torch.Tensor, length: int, temperature: float = 1.0, top_k: int = 0, top_p: float = 1.0,
               seed: int = 0, cache: bool = True) -> torch.Tensor:
        """Return `prompt` (L,) ids followed by `length` sampled ids: LongTensor (L + length,).

        Each next id is drawn through `text.filter_logits`; `cache=True` reuses past keys and values
        (same tokens, less work). Past the context, the cache is dropped and the last `context` ids re-read.
        """
        generator = torch.Generator().manual_seed(seed)
        was_training = self.training
        self.eval()
        ids = prompt.view(1, -1).to(self.head.weight.device)
        caches, fed = None, 0                                  # fed: how many ids the cache already holds
        for _ in range(length):
            if not cache or ids.shape[1] > self.config.context:
                window = ids[:, -self.config.context:]
                logits = self(window)[0, -1]
            else:
                if caches is None:
                    caches, fed = [{} for _ in self.blocks], 0
                logits = self(ids[:, fed:], caches, start=fed)[0, -1]
                fed = ids.shape[1]
            probs = F.softmax(text.filter_logits(logits.float().cpu(), temperature, top_k, top_p), dim=-1)
            nxt = torch.multinomial(probs, 1, generator=generator).to(ids.device)
            ids = torch.cat([ids, nxt.view(1, 1)], dim=1)
        self.train(was_training)
        return ids[0].cpu()


def bits_per_token(model: nn.Module, ids: torch.Tensor, length: int = 128, max_tokens: int = 40_000) -> float:
    """Return the model's mean next-token loss in bits on (up to `max_tokens` of) `ids`, in windows of `length`."""
    return text.bits_per_char(model, ids, length=length, max_chars=max_tokens)


@dataclass
class TrainConfig:
    """How to train: steps, batch, window length, AdamW peak rate, warm-up steps, final rate, seed."""

    steps: int = 1200
    batch_size: int = 32
    length: int = 128
    lr: float = 4e-3
    warmup: int = 100
    final_lr: float = 1e-4
    weight_decay: float = 0.01
    seed: int = 0


def learning_rate(step: int, config: TrainConfig) -> float:
    """Return the rate at `step`: linear warm-up to `lr`, then a cosine down to `final_lr` at the last step."""
    if step < config.warmup:
        return config.lr * (step + 1) / config.warmup
    done = (step - config.warmup) / max(1, config.steps - config.warmup)
    return config.final_lr + 0.5 * (config.lr - config.final_lr) * (1 + math.cos(math.pi * done))


def train_gpt(model: nn.Module, ids: torch.Tensor, config: TrainConfig, held_out: torch.Tensor | None = None,
              eval_every: int = 100, progress: bool = True, callback=None) -> dict[str, list[float]]:
    """Train `model` on random windows of `ids` with AdamW; return {"step", "loss", "held_out_bpc"} history.

    Only parameters with requires_grad train (so LoRA trains its adapters alone). `callback(step, history)`
    runs after each evaluation (a live plot).
    """
    from tqdm.auto import tqdm

    g = torch.Generator().manual_seed(config.seed)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay)
    history: dict[str, list[float]] = {"step": [], "loss": [], "held_out_bpc": []}
    model.train()
    for step in tqdm(range(config.steps), disable=not progress, desc="training the GPT"):
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(step, config)
        batch = text.random_windows(ids, config.batch_size, config.length, g)
        logits = model(batch[:, :-1])
        loss = F.cross_entropy(logits.flatten(0, 1), batch[:, 1:].flatten())
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        if (step + 1) % eval_every == 0 or step + 1 == config.steps:
            history["step"].append(step + 1)
            history["loss"].append(loss.item())
            history["held_out_bpc"].append(float("nan") if held_out is None else
                                           bits_per_token(model, held_out, length=config.length))
            if callback is not None:
                callback(step + 1, history)
    model.eval()
    return history
