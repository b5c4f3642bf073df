"""A tiny GPT: causal self-attention written out, the transformer block, the model, a key-value cache.

Chapter 12 reads this file top to bottom: `attention` is the formula, `CausalSelfAttention` runs several
heads of it (with an optional cache of past keys and values), `Block` adds the MLP and residuals, `GPT`
stacks blocks on token and position embeddings. `train_gpt` is the plain loop. Sampling goes through the
course's one sampler, `text.filter_logits` (temperature, top-k, top-p).
"""

from __future__ import annotations

import copy
import math
import statistics
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from . import engine, text


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


def fused_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, causal: bool = True) -> torch.Tensor:
    """`attention` through PyTorch's fused kernel: the same result (tests/test_gpt.py checks it), fewer passes over memory.

    The library's `is_causal` aligns the mask to the first keys; with a key-value cache the queries are the last Lq of
    Lk positions, so that case gets the mask of `attention` spelled out.
    """
    lq, lk = q.shape[-2], k.shape[-2]
    if not causal or lq == 1:                            # one new query sees every cached key
        return F.scaled_dot_product_attention(q, k, v)
    if lq == lk:
        return F.scaled_dot_product_attention(q, k, v, is_causal=True)
    allowed = torch.ones(lq, lk, dtype=torch.bool, device=q.device).tril(lk - lq)
    return F.scaled_dot_product_attention(q, k, v, attn_mask=allowed)


@dataclass
class GPTConfig:
    """Size of the GPT: vocabulary, context length, layers, width, heads; `positions=False` drops position embeddings.

    `causal=False` lets every position attend to both sides: a BERT-style encoder (see `train_masked`).
    `fused=False` runs the hand-written `attention` instead of the library's fused kernel (same numbers, slower).
    """

    vocab_size: int
    context: int = 128
    n_layer: int = 2
    n_embd: int = 128
    n_head: int = 4
    dropout: float = 0.0
    positions: bool = True
    causal: bool = True
    fused: bool = True


class CausalSelfAttention(nn.Module):
    """Multi-head causal self-attention (both ways if not config.causal): x (B, L, C) -> (B, L, C); `cache` holds past keys and values."""

    def __init__(self, config: GPTConfig):
        super().__init__()
        self.n_head, self.causal = config.n_head, config.causal
        self.attend = fused_attention if config.fused else attention
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
        y = self.attend(q, k, v, causal=self.causal)                # (B, heads, L, head width)
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
    def continue_ids(self, prompt: torch.Tensor, length: int, temperature: float = 1.0, top_k: int = 0,
                     top_p: float = 1.0, seed: int = 0, cache: bool = True) -> torch.Tensor:
        """Return `prompt` (L,) ids followed by `length` sampled ids: LongTensor (L + length,).

        Not ``sample(n)``: a text model continues a prompt (for strings, use the course sampler ``text.draw``).

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


@torch.no_grad()
def bits_per_character(model: nn.Module, ids: torch.Tensor, decode, length: int = 64) -> float:
    """Return the bits of every token predicted in windows of `length` of `ids`, divided by the characters they spell.

    `decode` maps token ids to a string (a `Vocabulary.decode` or a `BPE.decode`): a character model and a
    byte-pair model are then compared per character, whatever their tokens.
    """
    n = (len(ids) - 1) // length * length
    x, y = ids[:n].view(-1, length), ids[1:n + 1].view(-1, length)
    was_training = model.training
    model.eval()
    bits = F.cross_entropy(model(x).flatten(0, 1), y.flatten(), reduction="sum").item() / math.log(2)
    model.train(was_training)
    return bits / len(decode(y.flatten()))


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
              eval_every: int = 100, progress: bool = True, callback=None, eval_length: int | None = None,
              run: engine.Run | None = None) -> dict[str, list[float]]:
    """Train `model` on random windows of `ids` with AdamW; return its history at each evaluation.

    History: "step", "loss" (the last batch's), "held_out_bpc" (nan without `held_out`; scored in windows of
    `eval_length`, default the training length) and "cpu_s", the CPU seconds spent training so far (evaluation
    excluded). Any model mapping ids (B, L) to logits (B, L, V) trains here: the GPT, or chapter 07's GRU for a
    like-for-like comparison. Only parameters with requires_grad train (so LoRA trains its adapters alone).
    `callback(step, history)` runs after each evaluation (a live plot). `run` (``engine.Run``) adds torchrun,
    resume and checkpoints; default: one process.
    """
    run = run or engine.Run.local(model)
    g = torch.Generator().manual_seed(config.seed)
    net = run.wrap(model)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay)
    history: dict[str, list[float]] = {"step": [], "loss": [], "held_out_bpc": [], "cpu_s": []}
    clock = time.process_time()
    for step in run.steps(config.steps, history, model=model, optimizers=[optimizer], rng=g, progress=progress,
                          desc=f"training the {type(model).__name__}", callback=callback, every=eval_every):
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(step, config)
        batch = run.shard(text.random_windows(ids, config.batch_size, config.length, g))
        loss = F.cross_entropy(net(batch[:, :-1]).flatten(0, 1), batch[:, 1:].flatten())
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        if (step + 1) % eval_every == 0 or step + 1 == config.steps:
            spent = (history["cpu_s"] or [0.0])[-1] + time.process_time() - clock
            bpc = float("nan") if held_out is None else bits_per_token(model, held_out, eval_length or config.length)
            run.log(history, step + 1, loss.item(), bpc, spent)
            history["step"][-1] = step + 1
            clock = time.process_time()
    return history


def seconds_per_step(model: nn.Module, ids: torch.Tensor, batch_size: int, length: int, steps: int = 32,
                     rounds: int = 3) -> float:
    """CPU seconds of one training step of a copy of `model`, taken as `train_gpt` takes it (forward, backward,
    clipping, AdamW): the median of `rounds` timings of `steps` steps each, after two warm-up steps. A single short
    timing is at the mercy of a busy moment on a shared machine."""
    model, g = copy.deepcopy(model), torch.Generator().manual_seed(99)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)

    def step() -> None:
        batch = text.random_windows(ids, batch_size, length, g)
        loss = F.cross_entropy(model(batch[:, :-1]).flatten(0, 1), batch[:, 1:].flatten())
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()

    for _ in range(2):
        step()
    timings = []
    for _ in range(rounds):
        t0 = time.process_time()
        for _ in range(steps):
            step()
        timings.append((time.process_time() - t0) / steps)
    return statistics.median(timings)


# --------------------------------------------------------------------------- BERT's objective


def mask_tokens(batch: torch.Tensor, mask_id: int, vocab_size: int, generator: torch.Generator,
                rate: float = 0.15) -> tuple[torch.Tensor, torch.Tensor]:
    """Return (corrupted ids, chosen) for ids (B, L): `rate` of the positions chosen; of those 80% -> `mask_id`,
    10% -> a random id, 10% left as they are. `chosen` (B, L) is True where the loss is taken."""
    chosen = torch.rand(batch.shape, generator=generator) < rate
    roll = torch.rand(batch.shape, generator=generator)
    corrupted = batch.masked_fill(chosen & (roll < 0.8), mask_id)
    random_ids = torch.randint(0, vocab_size, batch.shape, generator=generator)
    corrupted = torch.where(chosen & (roll >= 0.8) & (roll < 0.9), random_ids, corrupted)
    return corrupted, chosen


def train_masked(model: GPT, ids: torch.Tensor, config: TrainConfig, mask_id: int, rate: float = 0.15,
                 progress: bool = True) -> list[float]:
    """Train a two-way (`causal=False`) model to recover masked ids of random windows of `ids`; return the losses.

    BERT's pre-training: `rate` of the positions are chosen (BERT: 0.15) and the loss (cross-entropy, nats) is
    taken at the chosen positions only.
    """
    from tqdm.auto import tqdm

    g = torch.Generator().manual_seed(config.seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    losses = []
    model.train()
    for step in tqdm(range(config.steps), disable=not progress, desc="training the masked model"):
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(step, config)
        batch = text.random_windows(ids, config.batch_size, config.length, g)[:, :-1]   # (B, length)
        corrupted, chosen = mask_tokens(batch, mask_id, mask_id, g, rate)   # random ids: real characters only
        loss = F.cross_entropy(model(corrupted)[chosen], batch[chosen])
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        losses.append(loss.item())
    model.eval()
    return losses


@torch.no_grad()
def fill_in(model: GPT, ids: torch.Tensor, blanks: torch.Tensor, mask_id: int) -> torch.Tensor:
    """Return `ids` (L,) with the positions where `blanks` (L,) is True replaced by the model's most likely id."""
    logits = model(ids.masked_fill(blanks, mask_id).view(1, -1))[0]
    return torch.where(blanks, logits.argmax(-1), ids)


# --------------------------------------------------------------------------- the command line


def recipe(kind: str = "gpt", vocab_size: int = 109) -> tuple[GPTConfig, TrainConfig]:
    """Return (model size, training recipe) of `aigc-course train KIND`: "gpt", or "gpt-nopos" without positions."""
    if kind not in ("gpt", "gpt-nopos"):
        raise ValueError(f"unknown GPT kind {kind!r}: 'gpt' or 'gpt-nopos'")
    return (GPTConfig(vocab_size, context=64, n_layer=2, n_embd=64, n_head=4, positions=kind == "gpt"),
            TrainConfig(steps=1000, batch_size=32, length=64, lr=2e-2, warmup=60))


def train(kind: str = "gpt", steps: int | None = None, seed: int = 0, out: str | Path = "runs",
          data: str | None = None, progress: bool = True, resume: str | Path | None = None,
          save_every: int = 500) -> Path:
    """Train the GPT `kind` on the documentation corpus (chapter 07's split); save and return OUT/<kind>.pt.

    The checkpoint is rewritten every `save_every` steps with what `resume=PATH` needs to carry on.
    Runs unchanged under ``torchrun --nproc_per_node N -m aigc_course.cli train gpt`` (data parallel).
    `data` must be None: the corpus is the Python documentation that ships with Python.
    """
    if data is not None:
        raise ValueError("the GPT trains on the bundled Python documentation; --data is for the digit models")
    corpus = text.topics_split("train")
    vocab = text.Vocabulary(corpus)
    model_config, train_config = recipe(kind, len(vocab))
    train_config = replace(train_config, seed=seed, steps=train_config.steps if steps is None else steps)

    def fit(model: GPT, run: engine.Run) -> None:
        held = vocab.encode(text.topics_split("held_out"))
        train_gpt(model, vocab.encode(corpus), train_config, held, eval_every=min(100, train_config.steps),
                  progress=progress, run=run)

    return engine.launch(kind, lambda: GPT(model_config), fit, steps=train_config.steps, seed=seed, out=out,
                         resume=resume, save_every=save_every, train_config=asdict(train_config),
                         corpus="python documentation topics (text.topics_split)")
