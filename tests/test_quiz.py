from aigc_course.quiz import QUESTIONS, quiz_widget, score


def test_every_question_has_a_valid_answer_and_explanation():
    for q in QUESTIONS:
        assert 0 <= q.answer < len(q.options) and q.why


def test_score_counts_correct_answers():
    right = [q.answer for q in QUESTIONS]
    assert score(right) == len(QUESTIONS)
    assert score([None] * len(QUESTIONS)) == 0


def test_widget_updates_feedback_and_score_when_answered():
    import ipywidgets as widgets

    box = quiz_widget()
    radios = [c for c in box.children if isinstance(c, widgets.RadioButtons)]
    assert [r.description for r in radios] == [f"Q{i}" for i in range(1, len(QUESTIONS) + 1)]
    radios[0].index = QUESTIONS[0].answer
    assert "score: 1 /" in box.children[-1].value
    radios[1].index = (QUESTIONS[1].answer + 1) % len(QUESTIONS[1].options)
    assert "not quite" in box.children[box.children.index(radios[1]) + 1].value


def test_quiz_covers_all_five_questions_of_the_articles_faq():
    cited = " ".join(q.prompt + " " + q.why for q in QUESTIONS)
    assert all(f"FAQ 10.{i}" in cited for i in range(1, 6)), cited


def test_options_are_distinct_and_the_right_answer_is_not_always_in_the_same_place():
    for q in QUESTIONS:
        assert len(set(q.options)) == len(q.options) >= 3, q.prompt
    assert len({q.answer for q in QUESTIONS}) >= 2
