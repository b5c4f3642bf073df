"""The count-based baseline for every character model of the course: an interpolated Witten-Bell n-gram.

An order-n model predicts a character from the n-1 characters before it. Interpolation mixes every order,
from the longest context down to the uniform distribution over the vocabulary V (Witten & Bell, 1991):

    P_n(c | h) = (C(h c) + T(h) P_{n-1}(c | h')) / (C(h) + T(h)),    P_0(c) = 1 / |V|

where h' is h without its first character, C counts in the training text and T(h) is the number of distinct
characters seen after h. A context never seen falls through to the shorter one; no probability is ever 0.
Counts are plain dicts of strings, so an order-12 model of 450,000 characters fits in a few seconds.
"""

from __future__ import annotations

import math
from collections import Counter

import torch

from .text import Vocabulary, split_text

START = "\0"   # pads the text before its first character, so every position has a full context


class NGramModel:
    """An interpolated Witten-Bell character n-gram model: next-character probabilities from counted contexts."""

    def __init__(self, vocab: Vocabulary, order: int = 5):
        if order < 1:
            raise ValueError(f"order must be >= 1, got {order}")
        self.vocab, self.order = vocab, order
        self.grams: list[Counter] = []     # grams[k]: count of each (k characters, next character) string
        self.totals: list[Counter] = []    # totals[k]: C(h) for each context h of k characters
        self.types: list[Counter] = []     # types[k]: T(h), the distinct characters seen after h
        self.successors: list[dict[str, list[str]]] = []   # successors[k][h]: the characters seen after h

    def truncated(self, order: int) -> NGramModel:
        """Return the order-`order` model (order <= self.order) that shares this model's counts, without recounting."""
        if not 1 <= order <= self.order:
            raise ValueError(f"order must be in 1..{self.order}, got {order}")
        model = NGramModel(self.vocab, order)
        model.grams, model.totals, model.types = self.grams[:order], self.totals[:order], self.types[:order]
        if self.successors:
            model.successors = self.successors[:order]
        return model

    def _clean(self, text: str) -> str:
        return self.vocab.decode(self.vocab.encode(text))   # unknown characters become the vocabulary's "?"

    def fit(self, text: str) -> NGramModel:
        """Count every context of 0 .. order-1 characters and the character after it in `text`; return self."""
        t = START * (self.order - 1) + self._clean(text)
        first = self.order - 1                            # the first real character
        self.grams, self.totals, self.types, self.successors = [], [], [], []
        for k in range(self.order):
            grams = Counter(t[i - k:i + 1] for i in range(first, len(t)))
            self.grams.append(grams)
            self.totals.append(Counter(t[i - k:i] for i in range(first, len(t))) if k else Counter({"": len(t) - first}))
            self.types.append(Counter(g[:-1] for g in grams))
        return self

    def prob(self, context: str, char: str) -> float:
        """Return P(char | the last order-1 characters of `context`), a probability in (0, 1)."""
        h = (START * (self.order - 1) + self._clean(context))[len(context):] if self.order > 1 else ""
        return self._prob(h, self._clean(char))

    def _prob(self, h: str, c: str) -> float:
        # h: exactly order-1 characters; mix from the empty context up to the full one
        p = 1.0 / len(self.vocab)
        for k in range(self.order):
            ctx = h[len(h) - k:] if k else ""
            total = self.totals[k].get(ctx)
            if total:
                types = self.types[k][ctx]
                p = (self.grams[k].get(ctx + c, 0) + types * p) / (total + types)
        return p

    def log_prob(self, text: str) -> float:
        """Return log2 P(text) under the model, each character given the text before it (a number <= 0)."""
        t = START * (self.order - 1) + self._clean(text)
        m = self.order - 1
        return sum(math.log2(self._prob(t[i - m:i], t[i])) for i in range(m, len(t)))

    def bits_per_char(self, text: str) -> float:
        """Return the mean of -log2 P(next character | context) over `text`, in bits per character."""
        return -self.log_prob(text) / len(text)

    def distribution(self, context: str) -> torch.Tensor:
        """Return P(each vocabulary character | `context`): a float64 tensor (V,) summing to 1."""
        h = (START * (self.order - 1) + self._clean(context))[len(context):] if self.order > 1 else ""
        if len(self.successors) != self.order:       # built on first use: which characters follow each context
            self.successors = []
            for grams in self.grams:
                table: dict[str, list[str]] = {}
                for g in grams:
                    table.setdefault(g[:-1], []).append(g[-1])
                self.successors.append(table)
        v = len(self.vocab)
        p = [1.0 / v] * v
        for k in range(self.order):
            ctx = h[len(h) - k:] if k else ""
            total = self.totals[k].get(ctx)
            if total:
                types = self.types[k][ctx]
                p = [types * q / (total + types) for q in p]
                for c in self.successors[k][ctx]:
                    p[self.vocab.index[c]] += self.grams[k][ctx + c] / (total + types)
        return torch.tensor(p, dtype=torch.float64)

    def next_logits(self, ids: torch.Tensor, state: str | None = None) -> tuple[torch.Tensor, str]:
        """Return (log-probabilities (V,) of the character after `ids`, the context so far): the sampler's protocol."""
        context = (state or "") + self.vocab.decode(ids)
        context = context[len(context) - (self.order - 1):] if self.order > 1 else ""
        return self.distribution(context).log(), context


def choose_order(vocab: Vocabulary, text: str, orders: tuple[int, ...] = tuple(range(2, 13)),
                 validation_fraction: float = 0.1, check_text: str | None = None) -> tuple[int, dict[int, float]]:
    """Fit each order on `text` and score held-back text: return (the order with the lowest bpc, {order: bpc}).

    The held-back text is `check_text` when given (then all of `text` is counted), else the last
    `validation_fraction` of `text` (and the rest is counted).
    """
    fit_part, check_part = (text, check_text) if check_text is not None else split_text(text, validation_fraction)
    largest = NGramModel(vocab, max(orders)).fit(fit_part)
    scores = {n: largest.truncated(n).bits_per_char(check_part) for n in orders}
    return min(scores, key=scores.get), scores
