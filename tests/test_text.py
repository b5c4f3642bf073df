import torch

from aigc_course.text import (
    CharModel,
    CharModelConfig,
    Vocabulary,
    bits_per_char,
    split_text,
    stdlib_source,
    topics_split,
    train_char_model,
)


def test_topics_split_is_deterministic_and_disjoint():
    train, held = topics_split("train"), topics_split("held_out")
    assert len(train) > 5 * len(held) > 0
    assert topics_split("train") == train
    assert held[:2000] not in train


def test_encode_decode_round_trip_and_unknown_characters():
    vocab = Vocabulary("hello world")
    text = "def f(x):\n    return x"
    assert vocab.decode(vocab.encode(text)) == text
    assert vocab.decode(vocab.encode("é")) == "?"


def test_split_text_is_contiguous():
    a, b = split_text("abcdefghij", 0.2)
    assert a + b == "abcdefghij" and b == "ij"


def test_untrained_model_is_near_uniform_and_training_lowers_bits_per_char():
    torch.manual_seed(0)
    text = stdlib_source(("colorsys",))
    vocab = Vocabulary(text)
    ids = vocab.encode(text)
    model = CharModel(CharModelConfig(len(vocab), embed_dim=16, hidden_dim=32))
    start = bits_per_char(model, ids)
    assert abs(start - torch.log2(torch.tensor(len(vocab))).item()) < 0.5
    history = train_char_model(model, ids, steps=60, held_out=ids, eval_every=30, progress=False)
    assert history["held_out_bpc"][-1] < start - 1.0
    assert len(model.sample(vocab, "def ", length=20, generator=torch.Generator().manual_seed(0))) == 24
