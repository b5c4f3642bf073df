"""Text as tokens: the Python-documentation corpus, a character vocabulary and a tiny character model.

The corpus is real and offline: the topic pages of the Python documentation (``pydoc_data.topics``)
and the standard library's own source. Chapter 2 uses it to show tokenisation and pre-training then
fine-tuning; the character-level language-model chapter reuses the same pieces.
"""

from __future__ import annotations

import inspect
import math
import string
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

HELD_OUT_EVERY = 10  # every 10th topic (in sorted order) is held out


def pydoc_topics() -> dict[str, str]:
    """Return the Python documentation topic pages as {name: text}, sorted by name."""
    from pydoc_data.topics import topics

    return {name: topics[name] for name in sorted(topics)}


def topics_split(split: str = "train") -> str:
    """Return the documentation topics of one split ("train" or "held_out") joined into one string."""
    if split not in ("train", "held_out"):
        raise ValueError(f"split must be 'train' or 'held_out', got {split!r}")
    pages = list(pydoc_topics().values())
    keep = [p for i, p in enumerate(pages) if (i % HELD_OUT_EVERY == HELD_OUT_EVERY - 1) == (split == "held_out")]
    return "\n\n".join(keep)


SOURCE_MODULES = ("textwrap", "fractions", "statistics", "heapq", "bisect", "colorsys")


def stdlib_source(modules: tuple[str, ...] = SOURCE_MODULES) -> str:
    """Return the Python source of a few standard-library modules joined into one string."""
    import importlib

    return "\n\n".join(inspect.getsource(importlib.import_module(m)) for m in modules)


def split_text(text: str, held_out_fraction: float = 0.2) -> tuple[str, str]:
    """Split a string into (first part, last `held_out_fraction` of it): a deterministic, contiguous split."""
    cut = int(len(text) * (1 - held_out_fraction))
    return text[:cut], text[cut:]


class Vocabulary:
    """A character vocabulary: encode str -> LongTensor (L,) of ids, decode ids -> str; unseen chars -> '?'."""

    UNKNOWN = "?"

    def __init__(self, text: str):
        chars = sorted(set(text) | set(string.printable) | {self.UNKNOWN})
        self.chars = chars
        self.index = {c: i for i, c in enumerate(chars)}

    def __len__(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> torch.Tensor:
        """Return the ids of the characters of `text`: LongTensor (len(text),)."""
        unk = self.index[self.UNKNOWN]
        return torch.tensor([self.index.get(c, unk) for c in text], dtype=torch.long)

    def decode(self, ids) -> str:
        """Return the string whose character ids are `ids` (a tensor or a list of ints)."""
        return "".join(self.chars[int(i)] for i in ids)


@dataclass
class CharModelConfig:
    """Size of the character model: vocabulary, embedding and GRU hidden width."""

    vocab_size: int
    embed_dim: int = 48
    hidden_dim: int = 128


class CharModel(nn.Module):
    """A one-layer GRU character model: ids (B, L) -> next-character logits (B, L, vocab_size)."""

    def __init__(self, config: CharModelConfig):
        super().__init__()
        self.config = config
        self.embed = nn.Embedding(config.vocab_size, config.embed_dim)
        self.rnn = nn.GRU(config.embed_dim, config.hidden_dim, batch_first=True)
        self.head = nn.Linear(config.hidden_dim, config.vocab_size)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        """Return logits (B, L, vocab_size) for the character after each position of `ids` (B, L)."""
        h, _ = self.rnn(self.embed(ids))
        return self.head(h)

    @torch.no_grad()
    def sample(self, vocab: Vocabulary, prompt: str, length: int = 200, temperature: float = 1.0,
               generator: torch.Generator | None = None) -> str:
        """Return `prompt` continued by `length` sampled characters."""
        ids = vocab.encode(prompt).unsqueeze(0)
        h = None
        out = list(prompt)
        x = ids
        for _ in range(length):
            y, h = self.rnn(self.embed(x), h)
            probs = F.softmax(self.head(y[:, -1]) / temperature, dim=-1)
            nxt = torch.multinomial(probs, 1, generator=generator)
            out.append(vocab.chars[int(nxt)])
            x = nxt
        return "".join(out)


def random_windows(ids: torch.Tensor, batch_size: int, length: int, generator: torch.Generator) -> torch.Tensor:
    """Return a batch (batch_size, length + 1) of random contiguous windows of the id sequence `ids`."""
    starts = torch.randint(0, len(ids) - length - 1, (batch_size,), generator=generator)
    return torch.stack([ids[s:s + length + 1] for s in starts.tolist()])


def bits_per_char(model: CharModel, ids: torch.Tensor, length: int = 128, max_chars: int = 40_000) -> float:
    """Return the model's mean next-character loss in bits per character on (up to `max_chars` of) `ids`."""
    n = min(len(ids) - 1, max_chars) // length * length
    x = ids[:n].view(-1, length)
    y = ids[1:n + 1].view(-1, length)
    was_training = model.training
    model.eval()
    with torch.no_grad():
        loss = F.cross_entropy(model(x).flatten(0, 1), y.flatten())
    model.train(was_training)
    return loss.item() / math.log(2)


def train_char_model(model: CharModel, ids: torch.Tensor, steps: int, held_out: torch.Tensor | None = None,
                     batch_size: int = 32, length: int = 64, lr: float = 3e-3, eval_every: int = 25,
                     seed: int = 0, progress: bool = True) -> dict[str, list[float]]:
    """Train `model` on random windows of `ids` for `steps` Adam steps; return {"step", "held_out_bpc"} history."""
    from tqdm.auto import tqdm

    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    history: dict[str, list[float]] = {"step": [], "held_out_bpc": []}

    def record(step: int) -> None:
        if held_out is not None:
            history["step"].append(step)
            history["held_out_bpc"].append(bits_per_char(model, held_out))

    record(0)
    model.train()
    for step in tqdm(range(1, steps + 1), disable=not progress, desc="char model"):
        batch = random_windows(ids, batch_size, length, generator)
        logits = model(batch[:, :-1])
        loss = F.cross_entropy(logits.flatten(0, 1), batch[:, 1:].flatten())
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        if step % eval_every == 0 or step == steps:
            record(step)
    return history
