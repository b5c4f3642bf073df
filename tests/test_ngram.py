import math

import pytest
import torch

from aigc_course import text
from aigc_course.ngram import NGramModel, choose_order


@pytest.fixture(scope="module")
def vocab():
    return text.Vocabulary("abc")


def test_probabilities_over_the_vocabulary_sum_to_one(vocab):
    model = NGramModel(vocab, 3).fit("abcabcabd cab")
    for context in ("", "a", "ab", "zz", "cab"):
        assert abs(model.distribution(context).sum().item() - 1) < 1e-9


def test_witten_bell_matches_the_formula_by_hand(vocab):
    model = NGramModel(vocab, 2).fit("abab")   # bigrams a->b twice, b->a once; unigrams a: 2, b: 2
    V = len(vocab)
    unigram_b = (2 + 2 / V) / (4 + 2)          # C(b)=2, T()=2 types, N=4
    assert abs(model.prob("a", "b") - (2 + 1 * unigram_b) / (2 + 1)) < 1e-12   # C(ab)=2, C(a)=2, T(a)=1
    assert abs(model.prob("c", "b") - unigram_b) < 1e-12                         # unseen context falls through


def test_an_empty_model_order_is_rejected(vocab):
    with pytest.raises(ValueError):
        NGramModel(vocab, 0)


def test_truncated_model_equals_a_model_fitted_at_that_order(vocab):
    data = "the cat sat on the mat; the cat ate the rat"
    small = NGramModel(vocab, 3).fit(data)
    assert small.bits_per_char("the hat") == NGramModel(vocab, 6).fit(data).truncated(3).bits_per_char("the hat")


def test_next_logits_are_the_log_distribution_of_the_last_characters(vocab):
    model = NGramModel(vocab, 3).fit("abcabcabc")
    logits, state = model.next_logits(vocab.encode("xab"))
    assert state == "ab" and torch.allclose(logits.exp(), model.distribution("ab"))
    assert vocab.chars[int(logits.argmax())] == "c"


def test_interpolated_witten_bell_reproduces_the_measured_documentation_scores():
    # measured while writing chapter 07: 1.643 / 1.531 / 1.468 / 1.437 bpc at orders 5 / 6 / 7 / 8
    train, held = text.topics_split("train"), text.topics_split("held_out")
    model = NGramModel(text.Vocabulary(train), 8).fit(train)
    for order, bpc in {5: 1.643, 6: 1.531, 7: 1.468, 8: 1.437}.items():
        assert abs(model.truncated(order).bits_per_char(held) - bpc) < 0.01, order


def test_choose_order_picks_the_lowest_validation_score(vocab):
    data = "abcab" * 200
    best, scores = choose_order(vocab, data, orders=(1, 2, 3))
    assert best == min(scores, key=scores.get) and scores[3] < scores[1] - 1
    assert math.isfinite(scores[2])
