"""Milestones on the road to AIGC (generative models and the models they build on): a small table the background
chapter plots as a timeline. Each row is dated by its first release (the preprint, or the product release)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Milestone:
    """One milestone: the year its paper or release appeared, the model, its modality and its citation."""

    year: int
    model: str
    modality: str
    citation: str


MILESTONES: tuple[Milestone, ...] = (
    Milestone(1985, "Boltzmann machine", "binary vectors",
              "Ackley, Hinton & Sejnowski, 'A learning algorithm for Boltzmann machines', Cognitive Science, 1985"),
    Milestone(2006, "Deep belief network (stacked RBMs)", "images",
              "Hinton, Osindero & Teh, 'A fast learning algorithm for deep belief nets', Neural Computation, 2006"),
    Milestone(2013, "Variational autoencoder (VAE)", "images",
              "Kingma & Welling, 'Auto-Encoding Variational Bayes', arXiv:1312.6114 (Dec 2013), ICLR 2014"),
    Milestone(2014, "Generative adversarial network (GAN)", "images",
              "Goodfellow et al., 'Generative Adversarial Nets', NeurIPS (NIPS) 2014"),
    Milestone(2015, "DCGAN", "images",
              "Radford, Metz & Chintala, 'Unsupervised Representation Learning with Deep Convolutional "
              "Generative Adversarial Networks', arXiv:1511.06434 (2015), ICLR 2016"),
    Milestone(2016, "PixelCNN", "images",
              "van den Oord, Kalchbrenner & Kavukcuoglu, 'Pixel Recurrent Neural Networks', ICML 2016"),
    Milestone(2016, "WaveNet", "audio",
              "van den Oord et al., 'WaveNet: A Generative Model for Raw Audio', arXiv:1609.03499, 2016"),
    Milestone(2017, "Transformer", "text",
              "Vaswani et al., 'Attention Is All You Need', NeurIPS (NIPS) 2017"),
    Milestone(2018, "GPT", "text",
              "Radford, Narasimhan, Salimans & Sutskever, 'Improving Language Understanding by Generative "
              "Pre-Training', OpenAI report, 2018"),
    Milestone(2018, "BERT", "text",
              "Devlin, Chang, Lee & Toutanova, 'BERT: Pre-training of Deep Bidirectional Transformers for "
              "Language Understanding', arXiv:1810.04805 (2018), NAACL 2019"),
    Milestone(2019, "GPT-2", "text",
              "Radford et al., 'Language Models are Unsupervised Multitask Learners', OpenAI report, 2019"),
    Milestone(2020, "GPT-3", "text",
              "Brown et al., 'Language Models are Few-Shot Learners', NeurIPS 2020"),
    Milestone(2020, "DDPM (diffusion)", "images",
              "Ho, Jain & Abbeel, 'Denoising Diffusion Probabilistic Models', NeurIPS 2020"),
    Milestone(2021, "CLIP", "text + images",
              "Radford et al., 'Learning Transferable Visual Models From Natural Language Supervision', ICML 2021"),
    Milestone(2021, "DALL-E", "text -> images",
              "Ramesh et al., 'Zero-Shot Text-to-Image Generation', ICML 2021"),
    Milestone(2021, "Codex", "code",
              "Chen et al., 'Evaluating Large Language Models Trained on Code', arXiv:2107.03374, 2021"),
    Milestone(2021, "Latent diffusion (Stable Diffusion's design)", "text -> images",
              "Rombach, Blattmann, Lorenz, Esser & Ommer, 'High-Resolution Image Synthesis with Latent "
              "Diffusion Models', arXiv:2112.10752, 2021 (CVPR 2022)"),
    Milestone(2022, "ChatGPT", "text (dialogue)",
              "OpenAI, 'Introducing ChatGPT', product release, 30 November 2022"),
)


def milestones(modality: str | None = None) -> list[Milestone]:
    """Return the milestones in chronological order, optionally only those whose modality contains `modality`."""
    rows = sorted(MILESTONES, key=lambda m: m.year)
    return [m for m in rows if modality is None or modality in m.modality]


def plot_timeline(ax=None, rows: list[Milestone] | None = None):
    """Draw one row per milestone at its year, coloured by modality (oldest at the top); return the axes."""
    import matplotlib.pyplot as plt

    rows = milestones() if rows is None else rows
    if ax is None:
        _, ax = plt.subplots(figsize=(10, 6))
    kinds = sorted({m.modality for m in rows})
    colours = {k: plt.cm.tab10(i % 10) for i, k in enumerate(kinds)}
    labelled: set[str] = set()
    for i, m in enumerate(rows):
        y = len(rows) - i
        label = None if m.modality in labelled else m.modality
        labelled.add(m.modality)
        ax.scatter([m.year], [y], color=colours[m.modality], s=45, zorder=3, label=label)
        ax.annotate(f"{m.model} ({m.year})", (m.year, y), xytext=(-6, 0), textcoords="offset points",
                    fontsize=8, ha="right", va="center")
    ax.set_yticks([])
    ax.set_xlabel("year of publication / release")
    ax.set_xlim(min(m.year for m in rows) - 12, max(m.year for m in rows) + 1)
    ax.set_title("Milestones on the road to AIGC, 1985-2022 (dated by first release)")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(title="modality", fontsize=8, loc="lower left")
    return ax
