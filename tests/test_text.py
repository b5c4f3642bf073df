import pytest
import torch

from aigc_course.text import (
    CharModel,
    CharModelConfig,
    Vocabulary,
    bits_per_char,
    draw,
    split_text,
    stdlib_source,
    topics_split,
    train_char_model,
    verbatim_share,
)


def test_topics_split_is_deterministic_and_disjoint():
    train, held = topics_split("train"), topics_split("held_out")
    assert len(train) > 5 * len(held) > 0
    assert topics_split("train") == train
    assert held[:2000] not in train


def test_fit_and_validation_partition_the_training_pages():
    fit, validation = topics_split("fit"), topics_split("validation")
    assert len(fit) > 4 * len(validation) > 0
    assert len(fit) + len(validation) + 2 == len(topics_split("train"))   # the pages, joined by one blank line
    assert validation[:200] in topics_split("train") and not fit.startswith(validation[:200])
    with pytest.raises(ValueError, match="split must be"):
        topics_split("test")


def test_verbatim_share_counts_pieces_found_in_the_reference():
    assert verbatim_share("abcdefgh", "xxabcdefghxx", length=4, stride=2) == 1.0
    assert verbatim_share("abcdefgh", "abcd", length=4, stride=2) == 1 / 3   # pieces abcd, cdef, efgh
    assert verbatim_share("short", "", length=40) == 0.0


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
    assert len(draw(model, vocab, "def ", 20, generator=torch.Generator().manual_seed(0))) == 24


# ----------------------------------------------------------------------------- baselines, sampling, widget
import math  # noqa: E402

from aigc_course.text import (  # noqa: E402
    distinct_ngrams,
    filter_logits,
    generate,
    sampler_widget,
)


def test_bits_per_char_of_a_uniform_model_is_log2_of_the_vocabulary():
    vocab = Vocabulary("abc")
    model = CharModel(CharModelConfig(len(vocab), embed_dim=4, hidden_dim=8))
    torch.nn.init.zeros_(model.head.weight)
    torch.nn.init.zeros_(model.head.bias)
    ids = vocab.encode("hello world, " * 40)
    assert abs(bits_per_char(model, ids, length=16) - math.log2(len(vocab))) < 1e-5


def test_filters_keep_the_right_characters():
    logits = torch.log(torch.tensor([0.5, 0.3, 0.15, 0.05]))
    kept = lambda out: torch.isfinite(out).nonzero().flatten().tolist()  # noqa: E731
    assert kept(filter_logits(logits, top_k=2)) == [0, 1]
    assert kept(filter_logits(logits, top_p=0.5)) == [0]
    assert kept(filter_logits(logits, top_p=0.7)) == [0, 1]
    assert kept(filter_logits(logits, top_p=0.95)) == [0, 1, 2]
    assert kept(filter_logits(logits, temperature=0)) == [0]
    sharp = torch.softmax(filter_logits(logits, temperature=0.5), -1)
    assert sharp[0] > 0.5  # a low temperature sharpens


def test_distinct_ngram_share():
    assert distinct_ngrams("aaaaaa", 2) == 1 / 5
    assert distinct_ngrams("abcdef", 2) == 1.0


def test_generation_is_deterministic_given_a_seed_and_the_widget_follows_its_controls():
    vocab = Vocabulary("abc")
    torch.manual_seed(0)
    model = CharModel(CharModelConfig(len(vocab), embed_dim=4, hidden_dim=8))
    a = generate(model, vocab, "ab", 30, temperature=1.0, seed=1)
    assert a == generate(model, vocab, "ab", 30, temperature=1.0, seed=1) and len(a) == 32
    box = sampler_widget(model, vocab, prompt="ab", length=30)
    before = box.output.value
    box.children[1].value = 0.0
    assert box.output.value != before
    box.children[1].value = 0.8
    assert box.output.value == before


def test_gru_next_logits_are_the_forward_logits_at_the_last_position():
    vocab = Vocabulary("abcdef ")
    torch.manual_seed(0)
    model = CharModel(CharModelConfig(vocab_size=len(vocab))).eval()
    ids = vocab.encode("abc fed")
    logits, _ = model.next_logits(ids)
    assert torch.allclose(logits, model(ids.unsqueeze(0))[0, -1], atol=1e-6)
    # the state carries the context: feeding the last character alone with the state gives the same logits
    _, state = model.next_logits(ids[:-1])
    assert torch.allclose(model.next_logits(ids[-1:], state)[0], logits, atol=1e-6)
