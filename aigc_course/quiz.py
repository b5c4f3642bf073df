"""The article's FAQ (section 10) as a self-check quiz: questions, a scorer and an ipywidgets quiz."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Question:
    prompt: str
    options: tuple[str, ...]
    answer: int        # index of the correct option
    why: str           # the explanation shown after answering, naming the chapter that measured it


QUESTIONS: tuple[Question, ...] = (
    Question("What is AIGC (人工智能生成内容)?",
             ("Content (text, images, audio, video, code) produced by a generative model",
              "A file format for AI images", "A classifier that labels content"),
             0, "FAQ 10.1; chapter 01 (Background) draws what it covers."),
    Question("How is a GAN trained?",
             ("The encoder first, then the decoder", "A discriminator and a generator in alternating updates",
              "By maximising the ELBO"),
             1, "FAQ 10.2; chapter 05 (GANs on real digits): D takes k steps, then G takes one."),
    Question("How is a VAE trained?",
             ("Encoder first, then decoder, as the article's section 3.2 says",
              "Encoder and decoder jointly on one objective, the ELBO, through the reparameterisation trick",
              "Adversarially against a discriminator"),
             1, "Chapters 03 and 06: both halves get gradients from one loss in every step."),
    Question("Which model family usually drops modes (digits it never draws)?",
             ("The VAE", "The GAN", "Neither"),
             1, "Chapter 03 (2-D ring) and chapters 05/06: GANs can collapse; VAEs cover modes but blur."),
    Question("Which is a measured way to help a GAN train (FAQ 10.4)?",
             ("Make the discriminator's accuracy rise to 100%", "Non-saturating generator loss, Adam, batch norm "
              "(DCGAN recipe)", "Train only the generator"),
             1, "Chapter 05; at the ideal equilibrium D outputs 1/2 everywhere, so rising D accuracy is no goal."),
    Question("A classifier trained only on synthetic digits (TSTR) scores below one trained on real digits. "
             "What does that tell you?",
             ("The generator leaks private data", "The synthetic digits carry less of the task's information",
              "The data are differentially private"),
             1, "Chapter 08 (Outlook): utility, not privacy, is what TSTR measures."),
)


def score(answers: list[int | None], questions: tuple[Question, ...] = QUESTIONS) -> int:
    """Return the number of correct answers (None = unanswered)."""
    return sum(a == q.answer for a, q in zip(answers, questions, strict=True))


def quiz_widget(questions: tuple[Question, ...] = QUESTIONS):
    """Return a widgets.VBox: one RadioButtons per question (description Q1, Q2, ...), feedback and a score line."""
    import ipywidgets as widgets

    boxes, feedback, items = [], [], []
    total = widgets.HTML(f"<b>score: 0 / {len(questions)}</b>")

    def update(_=None) -> None:
        answers = [None if r.index is None else r.index for r in boxes]
        for q, a, f in zip(questions, answers, feedback, strict=True):
            if a is None:
                f.value = ""
            else:
                f.value = ("<span style='color:green'>correct</span>" if a == q.answer
                           else "<span style='color:#b00'>not quite</span>") + f": {q.why}"
        total.value = f"<b>score: {score(answers, questions)} / {len(questions)}</b>"

    for i, q in enumerate(questions, 1):
        radio = widgets.RadioButtons(options=list(q.options), value=None, description=f"Q{i}",
                                     layout=widgets.Layout(width="max-content"))
        radio.observe(update, names="value")
        f = widgets.HTML("")
        boxes.append(radio)
        feedback.append(f)
        items += [widgets.HTML(f"<b>Q{i}.</b> {q.prompt}"), radio, f]
    return widgets.VBox([*items, total])
