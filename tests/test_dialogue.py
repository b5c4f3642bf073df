import torch

from aigc_course.dialogue import (
    Retrieval,
    Turn,
    build_dialogues,
    chat_widget,
    english_stop_words,
    exact_match,
    score,
    term_names,
    token_accuracy,
    tokenize,
    train_chatbot,
)
from aigc_course.glossary import GLOSSARY


def test_dialogue_set_is_deterministic_and_held_out_questions_are_new_phrasings():
    train, held = build_dialogues()
    assert (train, held) == build_dialogues()
    assert len(train) > 100 and len(held) > 50
    assert not {t.question for t in held} & {t.question for t in train}
    # every held-out answer is an answer the training set teaches
    assert {t.answer for t in held} <= {t.answer for t in train}
    assert any(zh in t.answer for t in train for _, zh, _ in GLOSSARY)


def test_term_names_split_acronyms():
    assert term_names("variational autoencoder (VAE)") == ["variational autoencoder", "vae"]
    assert term_names("generator") == ["generator"]


def test_tokenizer_keeps_chinese_runs_and_punctuation():
    assert tokenize("In Chinese, decoder is 解码器.") == ["in", "chinese", ",", "decoder", "is", "解码器", "."]


def test_metrics_on_hand_built_answers():
    assert exact_match("A cat.", "a cat .") == 1.0
    assert exact_match("a dog.", "a cat.") == 0.0
    assert token_accuracy("a dog .", "a cat .") == 2 / 3
    assert token_accuracy("a cat . extra words", "a cat .") == 3 / 5  # longer answers are penalised


def test_retrieval_returns_the_answer_of_the_closest_question():
    turns = [Turn("what is a cat?", "a pet.", "meaning"), Turn("what is a car?", "a vehicle.", "meaning")]
    r = Retrieval(turns)
    assert r("tell me, what is a car") == "a vehicle."
    assert score(r, turns) == {"exact_match": 1.0, "token_accuracy": 1.0}


def test_stop_words_keep_function_words_from_deciding_the_match():
    assert {"what", "is", "you", "in"} <= english_stop_words() and "chinese" not in english_stop_words()
    turns = [Turn("how do you say cat in chinese?", "in chinese, cat is 猫.", "chinese"),
             Turn("what is a cat?", "cat: a pet.", "meaning")]
    question = "could you explain cat?"   # shares "you" with the first question, only "cat" with the second
    assert Retrieval(turns, stop_words=frozenset())(question) == "in chinese, cat is 猫."
    assert Retrieval(turns)(question) == "cat: a pet."


def test_seq2seq_learns_a_tiny_dialogue_and_the_widget_shows_its_answer():
    turns = [Turn("hello", "hi there.", "small talk"), Turn("bye", "see you.", "small talk")]
    bot, losses = train_chatbot(turns, steps=150, batch_size=4, progress=False)
    assert losses[-1] < 0.1 * losses[0]
    assert bot("hello") == "hi there." and bot("bye") == "see you."
    box = chat_widget(bot)
    box.input.value = "bye"
    box.send.click()
    assert "see you." in box.output.value and box.input.value == ""
    assert isinstance(bot.model.reply_ids(torch.tensor([[4]])), torch.Tensor)
