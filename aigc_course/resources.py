"""Tools and resources (article section 8) with checked citations, and the article's citation errors.

Each entry gives authors, year, title and venue as published; each was checked against the paper's
arXiv or proceedings listing. `year` is the year of first public release (the arXiv preprint, where one came
before the venue); `venue` names the venue with its own year, so "Rombach et al., 2022" in the text and
2021 here are the same paper. `ARTICLE_ERRATA` lists what the article's section 8 got wrong and the
correction. (The article's “Generative Adversarial Networks” for Goodfellow et al., 2014 is not an error:
it is the arXiv title of 1406.2661; the NeurIPS proceedings call the same paper “Generative Adversarial Nets”.)
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Reference:
    key: str
    authors: str
    year: int
    title: str
    venue: str
    link: str          # arXiv id, DOI or URL
    topic: str         # where the course uses it


REFERENCES: tuple[Reference, ...] = (
    Reference("goodfellow2016book", "Ian Goodfellow, Yoshua Bengio, Aaron Courville", 2016, "Deep Learning",
              "MIT Press (book)", "https://www.deeplearningbook.org", "foundations"),
    Reference("ackley1985boltzmann", "David H. Ackley, Geoffrey E. Hinton, Terrence J. Sejnowski", 1985,
              "A Learning Algorithm for Boltzmann Machines", "Cognitive Science 9(1)", "doi:10.1207/s15516709cog0901_7",
              "timeline (chapter 01)"),
    Reference("hinton2006dbn", "Geoffrey E. Hinton, Simon Osindero, Yee-Whye Teh", 2006,
              "A Fast Learning Algorithm for Deep Belief Nets", "Neural Computation 18(7)",
              "doi:10.1162/neco.2006.18.7.1527", "timeline (chapter 01)"),
    Reference("vandenoord2016wavenet", "Aäron van den Oord, Sander Dieleman, Heiga Zen, Karen Simonyan, Oriol Vinyals, "
              "Alex Graves, Nal Kalchbrenner, Andrew Senior, Koray Kavukcuoglu", 2016,
              "WaveNet: A Generative Model for Raw Audio", "arXiv preprint", "arXiv:1609.03499",
              "audio generation (chapter 01)"),
    Reference("radford2021clip", "Alec Radford, Jong Wook Kim, Chris Hallacy, Aditya Ramesh, Gabriel Goh, "
              "Sandhini Agarwal, et al.", 2021,
              "Learning Transferable Visual Models From Natural Language Supervision", "ICML 2021", "arXiv:2103.00020",
              "timeline (chapter 01)"),
    Reference("ramesh2021dalle", "Aditya Ramesh, Mikhail Pavlov, Gabriel Goh, Scott Gray, Chelsea Voss, Alec Radford, "
              "Mark Chen, Ilya Sutskever", 2021, "Zero-Shot Text-to-Image Generation", "ICML 2021", "arXiv:2102.12092",
              "text-to-image generation (chapter 01)"),
    Reference("openai2022chatgpt", "OpenAI", 2022, "Introducing ChatGPT", "product announcement, 30 November 2022",
              "https://openai.com/blog/chatgpt", "dialogue systems (chapter 01)"),
    Reference("goodfellow2014gan", "Ian Goodfellow, Jean Pouget-Abadie, Mehdi Mirza, Bing Xu, David Warde-Farley, "
              "Sherjil Ozair, Aaron Courville, Yoshua Bengio", 2014, "Generative Adversarial Nets",
              "NeurIPS (NIPS) 2014", "arXiv:1406.2661", "GAN (chapters 03-05)"),
    Reference("goodfellow2016tutorial", "Ian Goodfellow", 2016, "NIPS 2016 Tutorial: Generative Adversarial Networks",
              "arXiv preprint", "arXiv:1701.00160", "GAN (chapter 05)"),
    Reference("radford2015dcgan", "Alec Radford, Luke Metz, Soumith Chintala", 2015,
              "Unsupervised Representation Learning with Deep Convolutional Generative Adversarial Networks",
              "ICLR 2016 (arXiv 2015)", "arXiv:1511.06434", "DCGAN (chapter 05)"),
    Reference("salimans2016improved", "Tim Salimans, Ian Goodfellow, Wojciech Zaremba, Vicki Cheung, Alec Radford, "
              "Xi Chen", 2016, "Improved Techniques for Training GANs", "NeurIPS (NIPS) 2016", "arXiv:1606.03498",
              "GAN training (chapter 05)"),
    Reference("kingma2013vae", "Diederik P. Kingma, Max Welling", 2013, "Auto-Encoding Variational Bayes",
              "ICLR 2014 (arXiv 2013)", "arXiv:1312.6114", "VAE (chapters 03, 04, 06)"),
    Reference("burda2015iwae", "Yuri Burda, Roger Grosse, Ruslan Salakhutdinov", 2015, "Importance Weighted Autoencoders",
              "ICLR 2016 (arXiv 2015)", "arXiv:1509.00519", "VAE likelihoods (chapter 06)"),
    Reference("sohn2015cvae", "Kihyuk Sohn, Honglak Lee, Xinchen Yan", 2015,
              "Learning Structured Output Representation using Deep Conditional Generative Models",
              "NeurIPS (NIPS) 2015", "https://papers.nips.cc/paper/5775", "conditional VAE (chapters 06, 08)"),
    Reference("vandenoord2016pixelrnn", "Aäron van den Oord, Nal Kalchbrenner, Koray Kavukcuoglu", 2016,
              "Pixel Recurrent Neural Networks", "ICML 2016", "arXiv:1601.06759",
              "pixel VAE: masked convolutions (chapter 06)"),
    Reference("gulrajani2017pixelvae", "Ishaan Gulrajani, Kundan Kumar, Faruk Ahmed, Adrien Ali Taiga, Francesco Visin, "
              "David Vazquez, Aaron Courville", 2016, "PixelVAE: A Latent Variable Model for Natural Images",
              "ICLR 2017 (arXiv 2016)", "arXiv:1611.05013", "pixel VAE (chapter 06)"),
    Reference("theis2016note", "Lucas Theis, Aäron van den Oord, Matthias Bethge", 2015,
              "A note on the evaluation of generative models", "ICLR 2016 (arXiv 2015)", "arXiv:1511.01844",
              "likelihood vs sample quality (chapter 06)"),
    Reference("mirza2014cgan", "Mehdi Mirza, Simon Osindero", 2014, "Conditional Generative Adversarial Nets",
              "arXiv preprint", "arXiv:1411.1784", "conditional GAN (chapter 05)"),
    Reference("liu2020selfcond", "Steven Liu, Tongzhou Wang, David Bau, Jun-Yan Zhu, Antonio Torralba", 2020,
              "Diverse Image Generation via Self-Conditioned GANs", "CVPR 2020", "arXiv:2006.10728",
              "self-conditioned GAN, the course's GAN (chapter 05)"),
    Reference("white2016sampling", "Tom White", 2016, "Sampling Generative Networks", "arXiv preprint",
              "arXiv:1609.04468", "latent walks with slerp (chapter 08)"),
    Reference("esteban2017tstr", "Cristóbal Esteban, Stephanie L. Hyland, Gunnar Rätsch", 2017,
              "Real-valued (Medical) Time Series Generation with Recurrent Conditional GANs", "arXiv preprint",
              "arXiv:1706.02633", "TSTR (chapter 08)"),
    Reference("dwork2006dp", "Cynthia Dwork, Frank McSherry, Kobbi Nissim, Adam Smith", 2006,
              "Calibrating Noise to Sensitivity in Private Data Analysis", "TCC 2006",
              "doi:10.1007/11681878_14", "differential privacy (chapter 08)"),
    Reference("shokri2017mia", "Reza Shokri, Marco Stronati, Congzheng Song, Vitaly Shmatikov", 2016,
              "Membership Inference Attacks Against Machine Learning Models", "IEEE S&P 2017 (arXiv 2016)",
              "arXiv:1610.05820", "privacy attacks (chapter 08)"),
    Reference("carlini2023extracting", "Nicholas Carlini, Jamie Hayes, Milad Nasr, Matthew Jagielski, Vikash Sehwag, "
              "Florian Tramèr, Borja Balle, Daphne Ippolito, Eric Wallace", 2023,
              "Extracting Training Data from Diffusion Models", "USENIX Security 2023", "arXiv:2301.13188",
              "memorisation (chapter 08)"),
    Reference("chen2021codex", "Mark Chen, Jerry Tworek, Heewoo Jun, Qiming Yuan, et al.", 2021,
              "Evaluating Large Language Models Trained on Code", "arXiv preprint", "arXiv:2107.03374",
              "code generation (chapter 08)"),
    Reference("mildenhall2020nerf", "Ben Mildenhall, Pratul P. Srinivasan, Matthew Tancik, Jonathan T. Barron, "
              "Ravi Ramamoorthi, Ren Ng", 2020, "NeRF: Representing Scenes as Neural Radiance Fields for View Synthesis",
              "ECCV 2020", "arXiv:2003.08934", "AR/VR (chapter 08)"),
    Reference("poole2022dreamfusion", "Ben Poole, Ajay Jain, Jonathan T. Barron, Ben Mildenhall", 2022,
              "DreamFusion: Text-to-3D using 2D Diffusion", "ICLR 2023 (arXiv 2022)", "arXiv:2209.14988",
              "AR/VR (chapter 08)"),
    Reference("paszke2019pytorch", "Adam Paszke, Sam Gross, Francisco Massa, Adam Lerer, et al.", 2019,
              "PyTorch: An Imperative Style, High-Performance Deep Learning Library", "NeurIPS 2019",
              "arXiv:1912.01703", "tools: the course's framework"),
    Reference("abadi2016tensorflow", "Martín Abadi, Paul Barham, Jianmin Chen, Zhifeng Chen, et al.", 2016,
              "TensorFlow: A System for Large-Scale Machine Learning", "OSDI 2016", "arXiv:1605.08695", "tools"),
    Reference("chollet2015keras", "François Chollet and others", 2015, "Keras", "software, https://keras.io",
              "https://github.com/keras-team/keras", "tools: the article's code"),
    Reference("miyato2018projection", "Takeru Miyato, Masanori Koyama", 2018, "cGANs with Projection Discriminator",
              "ICLR 2018", "arXiv:1802.05637", "conditional GAN (chapter 05)"),
    Reference("alemi2018broken", "Alexander A. Alemi, Ben Poole, Ian Fischer, Joshua V. Dillon, Rif A. Saurous, "
              "Kevin Murphy", 2017, "Fixing a Broken ELBO", "ICML 2018 (arXiv 2017)", "arXiv:1711.00464",
              "rate and distortion (chapter 06)"),
    Reference("holtzman2020curious", "Ari Holtzman, Jan Buys, Li Du, Maxwell Forbes, Yejin Choi", 2019,
              "The Curious Case of Neural Text Degeneration", "ICLR 2020 (arXiv 2019)", "arXiv:1904.09751",
              "top-p sampling (chapter 07)"),
    Reference("srivastava2015video", "Nitish Srivastava, Elman Mansimov, Ruslan Salakhutdinov", 2015,
              "Unsupervised Learning of Video Representations using LSTMs", "ICML 2015", "arXiv:1502.04681",
              "Moving MNIST (chapter 07)"),
    Reference("goyal2017large", "Priya Goyal, Piotr Dollár, Ross Girshick, Pieter Noordhuis, Lukasz Wesolowski, "
              "Aapo Kyrola, Andrew Tulloch, Yangqing Jia, Kaiming He", 2017,
              "Accurate, Large Minibatch SGD: Training ImageNet in 1 Hour", "arXiv preprint", "arXiv:1706.02677",
              "linear scaling rule (chapter 10)"),
    Reference("malladi2022sde", "Sadhika Malladi, Kaifeng Lyu, Abhishek Panigrahi, Sanjeev Arora", 2022,
              "On the SDEs and Scaling Rules for Adaptive Gradient Algorithms", "NeurIPS 2022", "arXiv:2205.10287",
              "square-root scaling rule (chapter 10)"),
    Reference("vaswani2017attention", "Ashish Vaswani, Noam Shazeer, Niki Parmar, Jakob Uszkoreit, Llion Jones, "
              "Aidan N. Gomez, Lukasz Kaiser, Illia Polosukhin", 2017, "Attention Is All You Need", "NeurIPS 2017",
              "arXiv:1706.03762", "the transformer (chapter 12)"),
    Reference("radford2018gpt", "Alec Radford, Karthik Narasimhan, Tim Salimans, Ilya Sutskever", 2018,
              "Improving Language Understanding by Generative Pre-Training", "OpenAI technical report",
              "https://openai.com/research/language-unsupervised", "GPT pre-training (chapter 12)"),
    Reference("radford2019gpt2", "Alec Radford, Jeffrey Wu, Rewon Child, David Luan, Dario Amodei, Ilya Sutskever", 2019,
              "Language Models are Unsupervised Multitask Learners", "OpenAI technical report",
              "https://openai.com/research/better-language-models", "GPT-2 (chapter 12)"),
    Reference("brown2020gpt3", "Tom B. Brown, Benjamin Mann, Nick Ryder, Melanie Subbiah, Jared Kaplan, et al.", 2020,
              "Language Models are Few-Shot Learners", "NeurIPS 2020", "arXiv:2005.14165", "GPT-3 (chapter 12)"),
    Reference("devlin2019bert", "Jacob Devlin, Ming-Wei Chang, Kenton Lee, Kristina Toutanova", 2018,
              "BERT: Pre-training of Deep Bidirectional Transformers for Language Understanding", "NAACL 2019 (arXiv 2018)",
              "arXiv:1810.04805", "masked pre-training (chapter 12)"),
    Reference("sennrich2016bpe", "Rico Sennrich, Barry Haddow, Alexandra Birch", 2015,
              "Neural Machine Translation of Rare Words with Subword Units", "ACL 2016 (arXiv 2015)",
              "arXiv:1508.07909", "byte-pair encoding (chapter 12)"),
    Reference("hu2022lora", "Edward J. Hu, Yelong Shen, Phillip Wallis, Zeyuan Allen-Zhu, Yuanzhi Li, Shean Wang, "
              "Lu Wang, Weizhu Chen", 2021, "LoRA: Low-Rank Adaptation of Large Language Models", "ICLR 2022 (arXiv 2021)",
              "arXiv:2106.09685", "low-rank adapters (chapter 12)"),
    Reference("ho2020ddpm", "Jonathan Ho, Ajay Jain, Pieter Abbeel", 2020, "Denoising Diffusion Probabilistic Models",
              "NeurIPS 2020", "arXiv:2006.11239", "DDPM (chapter 11)"),
    Reference("song2021ddim", "Jiaming Song, Chenlin Meng, Stefano Ermon", 2020, "Denoising Diffusion Implicit Models",
              "ICLR 2021 (arXiv 2020)", "arXiv:2010.02502", "the deterministic DDIM sampler (chapter 11)"),
    Reference("ho2022cfg", "Jonathan Ho, Tim Salimans", 2021, "Classifier-Free Diffusion Guidance",
              "NeurIPS 2021 Workshop on Deep Generative Models (arXiv 2022)", "arXiv:2207.12598",
              "classifier-free guidance (chapter 11)"),
    Reference("rombach2022ldm", "Robin Rombach, Andreas Blattmann, Dominik Lorenz, Patrick Esser, Björn Ommer", 2021,
              "High-Resolution Image Synthesis with Latent Diffusion Models", "CVPR 2022 (arXiv 2021)",
              "arXiv:2112.10752", "latent diffusion, Stable Diffusion's design (chapter 11)"),
    Reference("lipman2023flow", "Yaron Lipman, Ricky T. Q. Chen, Heli Ben-Hamu, Maximilian Nickel, Matt Le", 2022,
              "Flow Matching for Generative Modeling", "ICLR 2023 (arXiv 2022)", "arXiv:2210.02747",
              "flow matching (chapter 11)"),
    Reference("liu2023rectified", "Xingchao Liu, Chengyue Gong, Qiang Liu", 2022,
              "Flow Straight and Fast: Learning to Generate and Transfer Data with Rectified Flow",
              "ICLR 2023 (arXiv 2022)", "arXiv:2209.03003", "rectified flow (chapter 11)"),
    Reference("kynkaanniemi2019precision", "Tuomas Kynkäänniemi, Tero Karras, Samuli Laine, Jaakko Lehtinen, Timo Aila",
              2019, "Improved Precision and Recall Metric for Assessing Generative Models", "NeurIPS 2019",
              "arXiv:1904.06991", "k-nearest-neighbour precision and recall of samples (chapter 03, `aigc_course.metrics`)"),
    Reference("witten1991zero", "Ian H. Witten, Timothy C. Bell", 1991,
              "The Zero-Frequency Problem: Estimating the Probabilities of Novel Events in Adaptive Text Compression",
              "IEEE Transactions on Information Theory 37(4)", "doi:10.1109/18.87000",
              "the interpolated n-gram baseline (chapters 07, 08, 12)"),
)


ARTICLE_ERRATA: tuple[tuple[str, str], ...] = (
    ("8.3: “Improved Techniques for Training GANs” (Sourav Dutta et al., 2019)",
     "Tim Salimans, Ian Goodfellow, Wojciech Zaremba, Vicki Cheung, Alec Radford, Xi Chen, NeurIPS 2016 "
     "(arXiv:1606.03498)."),
    ("8.2: Keras is “a simple deep learning library based on TensorFlow and Theano”",
     "Theano's development ended in 2017 and multi-backend Keras 2.3 (2019) was its last release with a Theano "
     "backend; Keras 3 (2023) runs on JAX, TensorFlow or PyTorch."),
    ("8.1: a book 《生成对抗网络》 by Ian Goodfellow",
     "We found no such book; Goodfellow's own long-form treatment is the NIPS 2016 tutorial (arXiv:1701.00160)."),
    ("8.1: 《自然语言处理与深度学习》 (Xu et al.)",
     "Too vague to identify (no full authors, year or publisher); we list no replacement under that name."),
)


def get(key: str) -> Reference:
    """Return the reference with this key (KeyError if absent)."""
    for ref in REFERENCES:
        if ref.key == key:
            return ref
    raise KeyError(key)


def cited_in(citation: str) -> list[Reference]:
    """Return the references whose title appears in `citation` (a timeline milestone's citation, say)."""
    return [r for r in REFERENCES if r.title.lower() in citation.lower()]


def cite(key: str) -> str:
    """Return a one-line citation: 'Authors (year). Title. Venue. link'."""
    r = get(key)
    return f"{r.authors} ({r.year}). *{r.title}*. {r.venue}. {r.link}"


def references_markdown(topic: str | None = None) -> str:
    """Return the references (those whose topic contains `topic`, or all) as a Markdown table."""
    rows = [r for r in REFERENCES if topic is None or topic in r.topic]
    lines = ["| reference | venue | link | used for |", "|---|---|---|---|"]
    lines += [f"| {r.authors} ({r.year}). *{r.title}* | {r.venue} | {r.link} | {r.topic} |" for r in rows]
    return "\n".join(lines)


def errata_markdown() -> str:
    """Return the article's section-8 errors as Markdown 'The article says ... In fact ...' boxes."""
    return "\n\n".join(f"> **The article says** {said} **In fact** {fact}" for said, fact in ARTICLE_ERRATA)
