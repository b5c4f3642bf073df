"""The chapter map: article section -> notebook. The welcome notebook and a test read this one table."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Chapter:
    notebook: str   # file name in notebooks/
    section: str    # the article's section(s) it follows
    title: str
    learner_does: str
    exercise: str = ""   # its assignment in exercises/ (the instructor notebook), if it has one


CHAPTERS: list[Chapter] = [
    Chapter("00_welcome.ipynb", "-", "Welcome", "check the environment, see the map, learn how checks and budgets work"),
    Chapter("01_background.ipynb", "1", "Background", "a timeline of generative models drawn from data; what AIGC covers"),
    Chapter("02_core_concepts.ipynb", "2", "Core concepts",
            "discriminative vs generative on toy data; images as tensors, text as tokens; pre-training then fine-tuning, measured"),
    Chapter("03_algorithms.ipynb", "3", "GAN and VAE algorithms",
            "both algorithms step by step on 2-D data; mode collapse and blur shown, not asserted"),
    Chapter("04_math.ipynb", "4", "The mathematics",
            "derive D*, the JSD form, the ELBO, the Gaussian KL, the reparameterisation trick; check each numerically",
            "ex1_math.instructor.ipynb"),
    Chapter("05_gan.ipynb", "5", "GANs on real digits",
            "port and fix the article's GAN, train a recipe that draws every digit, evaluate, explore latents",
            "ex2_gan.instructor.ipynb"),
    Chapter("06_vae.ipynb", "5", "VAEs on real digits",
            "complete the article's VAE, measure likelihoods in nats, explore latent maps and beta", "ex3_vae.instructor.ipynb"),
    Chapter("07_applications.ipynb", "6", "Applications", "text, image, video and dialogue generation, each a small real model",
            "ex4_applications.instructor.ipynb"),
    Chapter("08_outlook.ipynb", "7", "Outlook", "digital art, synthetic data and privacy, generating code"),
    Chapter("09_summary.ipynb", "8-10", "Summary", "resources with correct citations, the summary, the FAQ as a self-check"),
    Chapter("10_scaling.ipynb", "Appendix", "Scaling out",
            "data parallelism with torchrun: effective batch and learning rate, the same training on 1 and 2 processes, GPUs and clusters"),
    Chapter("11_diffusion.ipynb", "beyond the article (6.2, 7.2)", "Diffusion and flow matching",
            "the forward process checked in closed form, DDPM and flow matching on the ring, a network against the exact "
            "optimal denoiser, a class-conditional digit model with classifier-free guidance, samplers and steps, latent "
            "diffusion in a VAE's latent space", "ex5_diffusion.instructor.ipynb"),
    Chapter("12_transformers.ipynb", "beyond the article (1.2, 2.3, 6.1)", "Transformers and pre-training",
            "attention from scratch, a tiny GPT against chapter 07's GRU at equal CPU time and the best n-gram, "
            "positions ablated, a key-value cache, byte-pair encoding compared per character, LoRA against full fine-tuning",
            "ex6_transformers.instructor.ipynb"),
]
