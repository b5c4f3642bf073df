"""Byte-pair encoding (Sennrich et al. 2016), from scratch: learn merges of frequent pairs, encode, decode.

Start from the UTF-8 bytes of the text (256 tokens, so every string round-trips exactly); repeatedly
replace the most frequent adjacent pair with a new token. Encoding applies the merges in the order
they were learned; decoding concatenates each token's bytes.
"""

from __future__ import annotations

from collections import Counter
from itertools import pairwise

import torch


def merge(ids: list[int], pair: tuple[int, int], new: int) -> list[int]:
    """Return `ids` with every non-overlapping occurrence of `pair` (left to right) replaced by `new`."""
    out, i = [], 0
    while i < len(ids):
        if i + 1 < len(ids) and (ids[i], ids[i + 1]) == pair:
            out.append(new)
            i += 2
        else:
            out.append(ids[i])
            i += 1
    return out


class BPE:
    """A byte-level BPE tokenizer: `train(text, vocab_size)`, `encode(str) -> LongTensor (L,)`, `decode(ids) -> str`."""

    def __init__(self):
        self.merges: dict[tuple[int, int], int] = {}
        self.pieces: list[bytes] = [bytes([b]) for b in range(256)]

    def __len__(self) -> int:
        return len(self.pieces)

    def train(self, text: str, vocab_size: int) -> BPE:
        """Learn `vocab_size - 256` merges from `text`, most frequent pair first; return self."""
        ids = list(text.encode("utf-8"))
        while len(self.pieces) < vocab_size:
            pairs = Counter(pairwise(ids))
            if not pairs:
                break
            pair = max(pairs, key=pairs.get)
            new = len(self.pieces)
            self.merges[pair] = new
            self.pieces.append(self.pieces[pair[0]] + self.pieces[pair[1]])
            ids = merge(ids, pair, new)
        return self

    def encode(self, text: str) -> torch.Tensor:
        """Return the token ids of `text`: LongTensor (L,), L <= the number of UTF-8 bytes."""
        ids = list(text.encode("utf-8"))
        while len(ids) > 1:
            # the earliest-learned merge present in ids comes next, as in training
            pair = min(pairwise(ids), key=lambda p: self.merges.get(p, len(self.pieces)))
            if pair not in self.merges:
                break
            ids = merge(ids, pair, self.merges[pair])
        return torch.tensor(ids, dtype=torch.long)

    def decode(self, ids) -> str:
        """Return the string whose token ids are `ids` (a tensor or list of ints); invalid UTF-8 becomes U+FFFD."""
        return b"".join(self.pieces[int(i)] for i in ids).decode("utf-8", errors="replace")
