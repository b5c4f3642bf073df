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
from tqdm.auto import tqdm

HELD_OUT_EVERY = 10  # every 10th topic (in sorted order) is held out


def pydoc_topics() -> dict[str, str]:
    """Return the Python documentation topic pages as {name: text}, sorted by name."""
    from pydoc_data.topics import topics

    return {name: topics[name] for name in sorted(topics)}


def topics_split(split: str = "train") -> str:
    """Return the documentation topics of one split joined into one string.

    "train" and "held_out" partition the pages (every 10th page in sorted order is held out);
    "fit" and "validation" partition the training pages the same way (every 10th of them is for
    validation), so that choices such as an n-gram's order are made on pages that are neither
    counted nor held out.
    """
    if split not in ("train", "held_out", "fit", "validation"):
        raise ValueError(f"split must be 'train', 'held_out', 'fit' or 'validation', got {split!r}")
    pages = list(pydoc_topics().values())
    last = HELD_OUT_EVERY - 1
    train = [p for i, p in enumerate(pages) if i % HELD_OUT_EVERY != last]
    keep = {"train": train, "held_out": [p for i, p in enumerate(pages) if i % HELD_OUT_EVERY == last],
            "fit": [p for i, p in enumerate(train) if i % HELD_OUT_EVERY != last],
            "validation": [p for i, p in enumerate(train) if i % HELD_OUT_EVERY == last]}[split]
    return "\n\n".join(keep)


def verbatim_share(text: str, reference: str, length: int = 40, stride: int = 20) -> float:
    """Return the share of `text`'s `length`-character pieces (one every `stride`) found verbatim in `reference`, in [0, 1]."""
    pieces = [text[i:i + length] for i in range(0, max(len(text) - length, 0) + 1, stride)]
    return sum(piece in reference for piece in pieces) / len(pieces)


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

    def next_logits(self, ids: torch.Tensor, state: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Return (logits (V,) of the character after `ids` (L,), the GRU state after them): the sampler's protocol."""
        y, state = self.rnn(self.embed(ids.view(1, -1)), state)
        return self.head(y[0, -1]), state


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


def train_char_model(model: CharModel, ids: torch.Tensor, steps: int, held_out: torch.Tensor | None = None, *,
                     batch_size: int = 32, length: int = 64, lr: float = 3e-3, final_lr: float | None = None,
                     eval_every: int = 25, eval_length: int = 128, seed: int = 0,
                     progress: bool = True) -> dict[str, list[float]]:
    """Train `model` on random windows of `ids` for `steps` Adam steps; return the {"step", "held_out_bpc"} history.

    final_lr: None keeps the rate at `lr`; a number decays it to `final_lr` along a cosine.
    held_out: scored in windows of `eval_length` characters before training and every `eval_every` steps.
    """
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    decay = None if final_lr is None else torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, steps, final_lr)
    history: dict[str, list[float]] = {"step": [], "held_out_bpc": []}

    def log(step: int) -> None:
        if held_out is not None:
            history["step"].append(step)
            history["held_out_bpc"].append(bits_per_char(model, held_out, length=eval_length))

    log(0)
    model.train()
    for step in tqdm(range(1, steps + 1), disable=not progress, desc="char model"):
        batch = random_windows(ids, batch_size, length, generator)          # (B, length + 1) character ids
        logits = model(batch[:, :-1])                                        # predict each next character
        loss = F.cross_entropy(logits.flatten(0, 1), batch[:, 1:].flatten())
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        if decay is not None:
            decay.step()
        if step % eval_every == 0 or step == steps:
            log(step)
    return history


# ----------------------------------------------------------------------------- sampling


def filter_logits(logits: torch.Tensor, temperature: float = 1.0, top_k: int = 0, top_p: float = 1.0) -> torch.Tensor:
    """Return next-character logits (..., V) divided by `temperature`, with -inf outside the top-k / top-p set.

    temperature <= 0 means greedy: only the most likely character survives.
    top_k = 0 and top_p = 1.0 switch those filters off.
    """
    if temperature <= 0:
        top_k, temperature = 1, 1.0
    logits = logits / temperature
    if top_k > 0:
        kth = torch.topk(logits, min(top_k, logits.shape[-1]), dim=-1).values[..., -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    if top_p < 1.0:
        sorted_logits, order = torch.sort(logits, dim=-1, descending=True)
        probs = F.softmax(sorted_logits, dim=-1)
        # keep the smallest set of most likely characters whose total probability reaches top_p
        drop_sorted = probs.cumsum(-1) - probs >= top_p
        drop = torch.zeros_like(drop_sorted).scatter(-1, order, drop_sorted)
        logits = logits.masked_fill(drop, float("-inf"))
    return logits


@torch.no_grad()
def draw(model, vocab: Vocabulary, prompt: str, length: int, *, temperature: float = 1.0, top_k: int = 0,
         top_p: float = 1.0, generator: torch.Generator | None = None) -> str:
    """Return `prompt` continued by `length` characters drawn from any model with ``next_logits(ids, state)``.

    The course's character sampler: the GRU (`CharModel`) and the GPT (`gpt.GPT`) both answer
    ``next_logits``; temperature, then top-k, then top-p are applied by `filter_logits`.
    """
    was_training = getattr(model, "training", False)
    if was_training:
        model.eval()
    x, state, out = vocab.encode(prompt or "\n"), None, []
    with torch.no_grad():
        for _ in range(length):
            logits, state = model.next_logits(x, state)
            probs = F.softmax(filter_logits(logits, temperature, top_k, top_p), dim=-1)
            x = torch.multinomial(probs, 1, generator=generator)
            out.append(vocab.chars[int(x)])
    if was_training:
        model.train()
    return prompt + "".join(out)


def generate(model, vocab: Vocabulary, prompt: str = "The ", length: int = 200, temperature: float = 1.0,
             top_k: int = 0, top_p: float = 1.0, seed: int = 0) -> str:
    """Return `prompt` continued by `length` characters drawn with temperature / top-k / top-p (same seed, same text)."""
    return draw(model, vocab, prompt, length, temperature=temperature, top_k=top_k, top_p=top_p,
                generator=torch.Generator().manual_seed(seed))


def distinct_ngrams(text: str, n: int = 4) -> float:
    """Return the share of distinct character n-grams among all n-grams of `text` (1.0: no n-gram repeats)."""
    grams = [text[i:i + n] for i in range(len(text) - n + 1)]
    return len(set(grams)) / len(grams) if grams else 0.0


def sampler_widget(model: CharModel, vocab: Vocabulary, prompt: str = "The ", length: int = 300, seed: int = 0):
    """Return an ipywidgets VBox: prompt, temperature, top-k, top-p and seed controls, a Generate button, the text.

    The text (a widgets.HTML, ``box.output``) updates whenever a control changes; the same settings
    and seed always give the same text.
    """
    import html

    import ipywidgets as widgets

    prompt_box = widgets.Text(value=prompt, description="prompt")
    temperature = widgets.FloatSlider(value=0.8, min=0.0, max=2.0, step=0.05, description="temperature")
    top_k = widgets.IntSlider(value=0, min=0, max=len(vocab), description="top-k (0=off)")
    top_p = widgets.FloatSlider(value=1.0, min=0.05, max=1.0, step=0.05, description="top-p")
    seed_box = widgets.IntText(value=seed, description="seed")
    button = widgets.Button(description="Generate")
    output = widgets.HTML()

    def refresh(*_):
        text = generate(model, vocab, prompt_box.value, length, temperature.value, top_k.value, top_p.value,
                        seed_box.value)
        share = distinct_ngrams(text[len(prompt_box.value):], 4)
        output.value = (f"<pre style='white-space: pre-wrap'>{html.escape(text)}</pre>"
                        f"<p>distinct 4-gram share: {share:.2f}</p>")

    for control in (prompt_box, temperature, top_k, top_p, seed_box):
        control.observe(refresh, names="value")
    button.on_click(refresh)
    refresh()
    box = widgets.VBox([prompt_box, temperature, top_k, top_p, seed_box, button, output])
    box.output = output
    return box
