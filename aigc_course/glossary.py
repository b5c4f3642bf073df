"""The course's key terms in English and Chinese (the article's own terms), shared by every chapter.

Each meaning is plain text (chapter 07's dialogue data is built from it, and a chat answer is plain text); the
table a notebook shows writes the formulas of some meanings in LaTeX instead (`MATH`).
"""

from __future__ import annotations

GLOSSARY: tuple[tuple[str, str, str], ...] = (
    # (English, Chinese, one-line meaning)
    ("AI-generated content (AIGC)", "人工智能生成内容", "text, images, audio, video or code produced by a model"),
    ("generative model", "生成模型", "a model of the data distribution p(x) that can draw new samples"),
    ("discriminative model", "判别模型", "a model of p(y | x): it separates classes but cannot sample x"),
    ("generative adversarial network (GAN)", "生成对抗网络", "a generator and a discriminator trained against each other"),
    ("generator", "生成器", "the network that maps noise z to a sample G(z)"),
    ("discriminator", "判别器", "the network that scores how real a sample looks"),
    ("variational autoencoder (VAE)", "变分自编码器", "encoder + decoder trained by maximising the ELBO"),
    ("encoder", "编码器", "maps x to a distribution over latent codes z"),
    ("decoder", "解码器", "maps a latent code z back to data space"),
    ("latent space", "潜在空间", "the low-dimensional space of codes z"),
    ("pre-training", "预训练", "training on a large general corpus before the target task"),
    ("fine-tuning", "微调", "continuing training of a pre-trained model on a small target corpus"),
    ("language model", "语言模型", "a model of the next token given the previous ones"),
    ("token", "词元", "the unit a text model reads: a character, a word or a byte-pair piece, as its tokenizer splits the text"),
    ("diffusion model", "扩散模型", "a model that learns to reverse a gradual noising process"),
    ("loss function", "损失函数", "the quantity training minimises"),
    ("sample", "样本", "one draw from a (model) distribution"),
    ("objective function", "目标函数", "the quantity a model's training maximises or minimises"),
    ("latent variable", "隐变量", "an unobserved variable z from which the data x is generated"),
    ("reconstruction error", "重构误差", "how badly the decoder rebuilds x from its code z"),
    ("KL divergence", "KL散度", "E_q[log q - log p], how far q is from p: never negative, zero only when q = p"),
    ("evidence lower bound (ELBO)", "证据下界", "expected reconstruction log-likelihood minus the KL to the prior: a lower bound on log p(x)"),
    ("reparameterisation trick", "重参数化技巧", "writing z = mu + sigma * eps so gradients flow through the sample"),
    ("digital art", "数字艺术创作", "pictures, music or animation made with generative models as a tool"),
    ("data privacy", "数据隐私保护", "keeping facts about the people in a data set from leaking out"),
    ("synthetic data", "合成数据", "data drawn from a generative model instead of collected"),
    ("memorisation", "记忆", "a model reproducing (near-)copies of its training examples"),
    ("differential privacy", "差分隐私", "a guarantee that any one record barely changes what a model can reveal"),
    ("automated programming", "自动化编程", "generating source code with a model"),
    ("augmented reality / virtual reality (AR/VR)", "增强现实与虚拟现实", "overlaying or replacing what a person sees"),
    ("mode collapse", "模式崩塌", "a generator that draws only a few of the data's modes (clusters)"),
)

# How the notebooks' glossary table writes the meanings that state a formula (no "|": it would end a table cell).
MATH: dict[str, str] = {
    "generative model": r"a model of the data distribution $p(x)$ that can draw new samples",
    "discriminative model": r"a model of $p(y \mid x)$: it separates classes but cannot sample $x$",
    "generator": r"the network that maps noise $z$ to a sample $G(z)$",
    "encoder": r"maps $x$ to a distribution over latent codes $z$",
    "decoder": r"maps a latent code $z$ back to data space",
    "latent space": r"the low-dimensional space of codes $z$",
    "language model": r"a model of the next token given the previous ones, $p(x_t \mid x_{<t})$",
    "latent variable": r"an unobserved variable $z$ from which the data $x$ is generated",
    "reconstruction error": r"how badly the decoder rebuilds $x$ from its code $z$",
    "KL divergence": (r"$D_{\mathrm{KL}}(q \,\Vert\, p) = \mathbb{E}_q[\log q - \log p]$, how far $q$ is from $p$: "
                      r"never negative, zero only when $q = p$"),
    "evidence lower bound (ELBO)": (r"$\mathbb{E}_{q(z \mid x)}[\log p(x \mid z)] - D_{\mathrm{KL}}(q(z \mid x) \,\Vert\, p(z))$,"
                                    r" expected reconstruction log-likelihood minus the KL to the prior: a lower bound on $\log p(x)$"),
    "reparameterisation trick": (r"writing $z = \mu + \sigma \odot \varepsilon$ with $\varepsilon \sim \mathcal{N}(0, I)$, "
                                 r"so gradients flow through the sample"),
}


def glossary_rows(terms: list[str] | None = None) -> list[tuple[str, str, str]]:
    """Return (English, Chinese, meaning) rows, all of them or those whose English term is in `terms`."""
    if terms is None:
        return list(GLOSSARY)
    wanted = set(terms)
    return [row for row in GLOSSARY if row[0] in wanted]


def chinese(term: str) -> str:
    """Return the Chinese term for an English term of the glossary (KeyError if absent)."""
    for en, zh, _ in GLOSSARY:
        if en == term:
            return zh
    raise KeyError(term)


def glossary_markdown(terms: list[str] | None = None) -> str:
    """Return the glossary (or the chosen terms) as a Markdown table, formulas in LaTeX (`MATH`)."""
    lines = ["| English | 中文 | meaning |", "|---|---|---|"]

    def cell(text: str) -> str:
        return text.replace("|", "\\|")  # a bare | would end the table cell

    lines += [f"| {cell(en)} | {cell(zh)} | {cell(MATH.get(en, meaning))} |" for en, zh, meaning in glossary_rows(terms)]
    return "\n".join(lines)


def show_glossary(terms: list[str] | None = None):
    """Return a displayable Markdown table of the glossary for a notebook cell."""
    from IPython.display import Markdown

    return Markdown(glossary_markdown(terms))
