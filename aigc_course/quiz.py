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
              "Any output of a deep-learning model, including the labels a classifier assigns",
              "Only text written by large language models"),
             0, "FAQ 10.1; chapter 01 (Background) draws what it covers; a label is not generated content."),
    Question("How is a GAN trained (FAQ 10.2)?",
             ("The generator first until it converges, then the discriminator",
              "In alternation: k discriminator updates, then one generator update (Goodfellow et al.'s Algorithm 1)",
              "Both networks minimise one shared loss together"),
             1, "FAQ 10.2; chapters 03 and 05: D takes k steps, then G takes one, on opposite objectives."),
    Question("How is a VAE trained (FAQ 10.2, 10.5)?",
             ("Encoder first, then decoder, as the article's section 3.2 says",
              "Encoder and decoder jointly on one objective, the ELBO, through the reparameterisation trick",
              "Adversarially against a discriminator"),
             1, "Chapters 03, 04 and 06: both halves get gradients from one loss in every step."),
    Question("Which of these is NOT an application of AIGC (FAQ 10.3)?",
             ("Image generation", "Dialogue systems", "Image classification"),
             2, "FAQ 10.3 and article 3.4; chapter 04: a classifier outputs a label, p(y | x), not content."),
    Question("Which is a measured way to help a GAN train (FAQ 10.4)?",
             ("Push the discriminator's accuracy towards 100%",
              "Non-saturating generator loss, Adam, batch norm (the DCGAN recipe)",
              "Give the generator several steps for every discriminator step"),
             1, "FAQ 10.4; chapter 05. At the ideal equilibrium D outputs 1/2 everywhere (chapter 04), and "
                "chapter 03 collapses a GAN with 5 generator steps per discriminator step."),
    Question("FAQ 10.5 says a VAE makes its reconstructions as good as possible. Train for reconstruction alone "
             "(no KL term): what do decoded draws z ∼ 𝒩(0, I) look like?",
             ("The sharpest samples of any VAE, since reconstructions are best",
              "Poor: the codes no longer follow the prior, so most prior draws decode to no digit",
              "The same as a VAE's: the KL term only speeds up training"),
             1, "FAQ 10.5; chapter 06's no-KL autoencoder: good reconstructions, poor samples."),
    Question("Which model family usually drops modes (digits it never draws)?",
             ("The VAE", "The GAN", "Neither"),
             1, "Chapter 03 (2-D ring) and chapters 05/06: GANs can collapse; VAEs tend to cover modes but blur."),
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
