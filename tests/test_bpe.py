"""Byte-pair encoding: exact round trip, merges shorten the text, the most frequent pair is merged first."""

import torch

from aigc_course import bpe, text


def test_bpe_round_trips_every_string_exactly():
    corpus = text.topics_split("train")[:30_000]
    tok = bpe.BPE().train(corpus, 300)
    for s in (corpus[:2_000], text.topics_split("held_out")[:2_000], "naïve café — 注意力机制 🙂\n\t", ""):
        assert tok.decode(tok.encode(s)) == s


def test_merges_make_the_text_shorter_than_its_bytes():
    corpus = text.topics_split("train")[:30_000]
    tok = bpe.BPE().train(corpus, 400)
    held = text.topics_split("held_out")[:5_000]
    # 144 merges on 30k characters compress held-out prose by about 1.7x; 1.3x leaves margin
    assert len(held.encode()) / len(tok.encode(held)) > 1.3


def test_the_most_frequent_pair_is_merged_first():
    tok = bpe.BPE().train("abababcd", 257)
    assert tok.merges == {(ord("a"), ord("b")): 256}
    assert tok.encode("abab").tolist() == [256, 256]
    assert bpe.merge([1, 1, 1], (1, 1), 9) == [9, 1]
    assert torch.equal(tok.encode("cd"), torch.tensor([ord("c"), ord("d")]))
