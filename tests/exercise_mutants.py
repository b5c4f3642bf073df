"""Typical mistakes, as edits of each exercise's solution: test data for tests/test_exercise_mutants.py.

MUTANTS[exercise][question] lists (the mistake, [(solution text, what the learner wrote instead), ...]).
Each solution text occurs exactly once in the instructor notebook's code.
"""

MUTANTS = {
    "ex1_math": {
        "q1": [
            ("sigma used for sigma squared", [("logvar.exp() - logvar - 1", "(0.5 * logvar).exp() - logvar - 1")]),
            ("the -1 left out", [("- logvar - 1).sum(dim=-1)", "- logvar).sum(dim=-1)")]),
            ("summed over the batch", [("- logvar - 1).sum(dim=-1)", "- logvar - 1).sum(dim=0)")]),
            ("mean over dimensions", [("- logvar - 1).sum(dim=-1)", "- logvar - 1).mean(dim=-1)")]),
            ("sign of log sigma squared", [("logvar.exp() - logvar - 1", "logvar.exp() + logvar - 1")]),
            ("the 1/2 left out", [("return 0.5 * (mu.pow(2)", "return (mu.pow(2)")]),
        ],
        "q2": [
            ("exp(logvar) used as sigma", [("return mu + (0.5 * logvar).exp() * eps", "return mu + logvar.exp() * eps")]),
            ("the mean left out", [("return mu + (0.5 * logvar).exp() * eps", "return (0.5 * logvar).exp() * eps")]),
            ("sigma added, not multiplied", [("return mu + (0.5 * logvar).exp() * eps",
                                              "return mu + (0.5 * logvar).exp() + eps")]),
            ("fresh noise instead of eps", [("return mu + (0.5 * logvar).exp() * eps",
                                             "return mu + (0.5 * logvar).exp() * torch.randn_like(mu)")]),
            ("sign error", [("return mu + (0.5 * logvar).exp() * eps", "return mu - (0.5 * logvar).exp() * eps")]),
            ("logvar used as sigma", [("return mu + (0.5 * logvar).exp() * eps", "return mu + logvar * eps")]),
        ],
        "q3": [
            ("KL added", [("return log_px - gaussian_kl(mu, logvar)", "return log_px + gaussian_kl(mu, logvar)")]),
            ("KL left out", [("return log_px - gaussian_kl(mu, logvar)", "return log_px")]),
            ("mean over pixels", [('reduction="none").sum(dim=1)', 'reduction="none").mean(dim=1)')]),
            ("summed over the batch", [('reduction="none").sum(dim=1)', 'reduction="none").sum(dim=0)')]),
            ("sign of the log-likelihood", [("log_px = -F.binary", "log_px = F.binary")]),
            ("logits and targets swapped", [("binary_cross_entropy_with_logits(logits, x, reduction",
                                             "binary_cross_entropy_with_logits(x, logits, reduction")]),
        ],
        "q4": [
            ("D* of the generator", [("return p_data / (p_data + p_g)", "return p_g / (p_data + p_g)")]),
            ("the likelihood ratio", [("return p_data / (p_data + p_g)", "return p_data / p_g")]),
            ("log D in both terms", [("(p_g * (1 - d).log())", "(p_g * d.log())")]),
            ("second term left out", [("float((p_data * d.log()).sum() + (p_g * (1 - d).log()).sum())",
                                       "float((p_data * d.log()).sum())")]),
            ("mean instead of sum", [("(p_data * d.log()).sum() +", "(p_data * d.log()).mean() +")]),
            ("sign of the second term", [("+ (p_g * (1 - d).log()).sum())", "- (p_g * (1 - d).log()).sum())")]),
        ],
    },
    "ex2_gan": {
        "q1": [
            ("labels swapped", [("return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()",
                                 "return F.softplus(real_logits).mean() + F.softplus(-fake_logits).mean()")]),
            ("sum instead of mean", [("return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()",
                                      "return F.softplus(-real_logits).sum() + F.softplus(fake_logits).sum()")]),
            ("fake term left out", [("return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()",
                                     "return F.softplus(-real_logits).mean()")]),
            ("log of sigmoid", [("return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()",
                                 "return -torch.log(torch.sigmoid(real_logits)).mean()"
                                 " - torch.log(1 - torch.sigmoid(fake_logits)).mean()")]),
            ("saturating generator loss", [("return F.softplus(-fake_logits).mean()",
                                            "return -F.softplus(fake_logits).mean()")]),
            ("sign of the generator loss", [("return F.softplus(-fake_logits).mean()",
                                             "return F.softplus(fake_logits).mean()")]),
        ],
        "q2": [
            ("G(z) not detached in D's step", [("d_loss(D(real), D(fake.detach()))", "d_loss(D(real), D(fake))")]),
            ("G stepped before D", [(
                "    loss_d = d_loss(D(real), D(fake.detach()))\n    opt_D.zero_grad()\n    loss_d.backward()\n"
                "    opt_D.step()\n    loss_g = g_loss(D(fake))\n    opt_G.zero_grad()\n    loss_g.backward()\n"
                "    opt_G.step()\n",
                "    loss_g = g_loss(D(fake))\n    opt_G.zero_grad()\n    loss_g.backward()\n    opt_G.step()\n"
                "    loss_d = d_loss(D(real), D(fake.detach()))\n    opt_D.zero_grad()\n    loss_d.backward()\n"
                "    opt_D.step()\n")]),
            ("D's gradients never zeroed", [("    opt_D.zero_grad()\n    loss_d.backward()", "    loss_d.backward()")]),
            ("tensors returned", [("return loss_d.item(), loss_g.item()", "return loss_d, loss_g")]),
            ("G scored on a detached G(z)", [("loss_g = g_loss(D(fake))", "loss_g = g_loss(D(fake.detach()))")]),
            ("D's optimiser stepped for G", [("    opt_G.step()\n    return loss_d.item()",
                                              "    opt_D.step()\n    return loss_d.item()")]),
        ],
        "q3": [
            ("never trains", [("    for _ in range(steps):", "    for _ in range(0):")]),
            ("stops after 50 steps", [("    for _ in range(steps):", "    for _ in range(min(steps, 50)):")]),
            ("trained on Gaussian noise, not the data", [(
                "real = data[torch.randint(len(data), (128,), generator=g)]", "real = torch.randn(128, 2, generator=g)")]),
            ("the two optimisers swapped", [("train_step(G, D, opt_G, opt_D, real,", "train_step(G, D, opt_D, opt_G, real,")]),
            ("plain SGD instead of Adam", [("opt_G, opt_D = make_optimizers(G, D)\n",
                                            "opt_G, opt_D = make_optimizers(G, D, kind=\"sgd\")\n")]),
        ],
    },
    "ex3_vae": {
        "q1": [
            ("mu and logvar swapped", [("mu, logvar = self.linear(h).chunk(2, dim=-1)",
                                        "logvar, mu = self.linear(h).chunk(2, dim=-1)")]),
            ("split along the batch", [("self.linear(h).chunk(2, dim=-1)", "self.linear(h).chunk(2, dim=0)")]),
            ("variance returned for logvar", [("        return mu, logvar", "        return mu, logvar.exp()")]),
            ("one half-size layer used for both", [
                ("self.linear = nn.Linear(d_in, 2 * d_latent)", "self.linear = nn.Linear(d_in, d_latent)"),
                ("mu, logvar = self.linear(h).chunk(2, dim=-1)", "mu = logvar = self.linear(h)")]),
            ("a second layer", [("self.linear = nn.Linear(d_in, 2 * d_latent)",
                                 "self.linear = nn.Linear(d_in, 2 * d_latent)\n        self.extra = nn.Linear(d_in, 1)")]),
        ],
        "q2": [
            ("sigma used for sigma squared", [("/ logvar.exp()", "/ (0.5 * logvar).exp()")]),
            ("log sigma left out of log q", [("- 0.5 * logvar - 0.5 * math.log(2 * math.pi)).sum(-1)",
                                              "- 0.5 * math.log(2 * math.pi)).sum(-1)")]),
            ("prior left out", [("return log_px_z + log_pz - log_qz", "return log_px_z - log_qz")]),
            ("log q added", [("return log_px_z + log_pz - log_qz", "return log_px_z + log_pz + log_qz")]),
            ("2 pi in the prior only", [("- 0.5 * logvar - 0.5 * math.log(2 * math.pi)).sum(-1)",
                                         "- 0.5 * logvar).sum(-1)")]),
            ("log p(x|z) summed over samples", [('reduction="none").sum(-1)', 'reduction="none").sum(0)')]),
        ],
        "q3": [
            ("ELBO summed over samples", [("return log_w.mean(dim=0)", "return log_w.sum(dim=0)")]),
            ("ELBO averaged over inputs", [("return log_w.mean(dim=0)", "return log_w.mean(dim=1)")]),
            ("-log K left out", [("return torch.logsumexp(log_w, dim=0) - math.log(log_w.shape[0])",
                                  "return torch.logsumexp(log_w, dim=0)")]),
            ("log of a mean of exponentials", [("return torch.logsumexp(log_w, dim=0) - math.log(log_w.shape[0])",
                                                "return log_w.exp().mean(dim=0).log()")]),
            ("-log N instead of -log K", [("math.log(log_w.shape[0])", "math.log(log_w.shape[1])")]),
            ("max instead of logsumexp", [("return torch.logsumexp(log_w, dim=0) - math.log(log_w.shape[0])",
                                           "return log_w.max(dim=0).values - math.log(log_w.shape[0])")]),
        ],
    },
    "ex4_applications": {
        "q1": [
            ("multiplied by T", [("torch.softmax(logits / temperature, dim=-1)", "torch.softmax(logits * temperature, dim=-1)")]),
            ("softmax over the batch", [("torch.softmax(logits / temperature, dim=-1)",
                                         "torch.softmax(logits / temperature, dim=0)")]),
            ("probabilities divided by T", [("torch.softmax(logits / temperature, dim=-1)",
                                             "torch.softmax(logits, dim=-1) / temperature")]),
            ("no softmax", [("return torch.softmax(logits / temperature, dim=-1)", "return logits / temperature")]),
            ("probabilities raised to 1/T, not renormalised", [(
                "return torch.softmax(logits / temperature, dim=-1)",
                "return torch.softmax(logits, dim=-1) ** (1 / temperature)")]),
        ],
        "q2": [
            ("the k-th largest dropped too", [("masked_fill(logits < kth,", "masked_fill(logits <= kth,")]),
            ("the k smallest kept", [("logits.topk(k, dim=-1)", "logits.topk(k, dim=-1, largest=False)")]),
            ("zero instead of -inf", [('logits.masked_fill(logits < kth, float("-inf"))',
                                       "logits.masked_fill(logits < kth, 0.0)")]),
            ("top-k over the batch", [("logits.topk(k, dim=-1)", "logits.topk(k, dim=0)")]),
            ("the mask returned", [('return logits.masked_fill(logits < kth, float("-inf"))', "return logits < kth")]),
            ("only the largest kept", [("values[..., -1:]", "values[..., :1]")]),
        ],
        "q3": [
            ("mass including the token itself", [("before = probs.cumsum(dim=-1) - probs", "before = probs.cumsum(dim=-1)")]),
            ("mask left in sorted order", [("drop = torch.zeros_like(drop_sorted).scatter(-1, order, drop_sorted)",
                                            "drop = drop_sorted")]),
            ("ascending sort", [("sort(dim=-1, descending=True)", "sort(dim=-1, descending=False)")]),
            ("cumulative sum of logits", [("torch.softmax(logits, dim=-1).sort(", "logits.sort(")]),
            ("the nucleus dropped, the tail kept", [("drop_sorted = before >= p", "drop_sorted = before < p")]),
        ],
        "q4": [
            ("the first n - 1 characters of the context", [("h = context[len(context) - (n - 1):]",
                                                            "h = context[:n - 1]")]),
            ("alpha not multiplied by the vocabulary size", [("(total + alpha * len(vocab))", "(total + alpha)")]),
            ("every n-gram counted in the total", [(
                "total = sum(count for gram, count in grams.items() if gram[:-1] == h)", "total = sum(grams.values())")]),
            ("n characters of context", [("h = context[len(context) - (n - 1):]", "h = context[len(context) - n:]")]),
            ("no smoothing in the numerator", [("(grams[h + c] + alpha)", "grams[h + c]")]),
            ("h at the very end counted", [(
                "total = sum(count for gram, count in grams.items() if gram[:-1] == h)", "total = text.count(h)")]),
        ],
    },
    "ex5_diffusion": {
        "q1": [
            ("a cumulative sum", [("return torch.cumprod(1 - betas, dim=0)", "return 1 - torch.cumsum(betas, dim=0)")]),
            ("the product of beta", [("return torch.cumprod(1 - betas, dim=0)", "return torch.cumprod(betas, dim=0)")]),
            ("1 - beta without the product", [("return torch.cumprod(1 - betas, dim=0)", "return 1 - betas")]),
            ("no square roots", [("return a.sqrt() * x0 + (1 - a).sqrt() * eps", "return a * x0 + (1 - a) * eps")]),
            ("abar on the noise", [("return a.sqrt() * x0 + (1 - a).sqrt() * eps",
                                    "return (1 - a).sqrt() * x0 + a.sqrt() * eps")]),
            ("noise not scaled", [("return a.sqrt() * x0 + (1 - a).sqrt() * eps", "return a.sqrt() * x0 + eps")]),
            ("abar not reshaped per example", [("a = abar_t.reshape(-1, *[1] * (x0.dim() - 1))",
                                                "a = abar_t.mean()")]),
        ],
        "q2": [
            ("the target's sign", [("return (model(x_t, t) - (eps - x0)).pow(2).mean()",
                                    "return (model(x_t, t) - (x0 - eps)).pow(2).mean()")]),
            ("the noise as target (DDPM's)", [("return (model(x_t, t) - (eps - x0)).pow(2).mean()",
                                               "return (model(x_t, t) - eps).pow(2).mean()")]),
            ("the path reversed", [("x_t = (1 - tt) * x0 + tt * eps", "x_t = tt * x0 + (1 - tt) * eps")]),
            ("the model sees x0", [("return (model(x_t, t) - (eps - x0)).pow(2).mean()",
                                    "return (model(x0, t) - (eps - x0)).pow(2).mean()")]),
            ("the model sees 1 - t", [("return (model(x_t, t) - (eps - x0)).pow(2).mean()",
                                       "return (model(x_t, 1 - t) - (eps - x0)).pow(2).mean()")]),
            ("a sum, not a mean", [("return (model(x_t, t) - (eps - x0)).pow(2).mean()",
                                    "return (model(x_t, t) - (eps - x0)).pow(2).sum()")]),
            ("absolute error", [("return (model(x_t, t) - (eps - x0)).pow(2).mean()",
                                 "return (model(x_t, t) - (eps - x0)).abs().mean()")]),
        ],
        "q3": [
            ("Euler step along the velocity", [("return x + (s - t) * v", "return x + (t - s) * v")]),
            ("Euler step of the whole velocity", [("return x + (s - t) * v", "return x - v")]),
            ("Euler step scaled by s", [("return x + (s - t) * v", "return x + s * v")]),
            ("fresh noise in DDIM", [("return math.sqrt(abar_s) * x0_hat + math.sqrt(1 - abar_s) * eps_hat",
                                      "return math.sqrt(abar_s) * x0_hat + math.sqrt(1 - abar_s) * torch.randn_like(x)")]),
            ("x0 not rescaled", [("x0_hat = (x - math.sqrt(1 - abar_t) * eps_hat) / math.sqrt(abar_t)",
                                  "x0_hat = x - math.sqrt(1 - abar_t) * eps_hat")]),
            ("no square roots in DDIM", [("return math.sqrt(abar_s) * x0_hat + math.sqrt(1 - abar_s) * eps_hat",
                                          "return abar_s * x0_hat + (1 - abar_s) * eps_hat")]),
            ("the clean estimate returned", [("return math.sqrt(abar_s) * x0_hat + math.sqrt(1 - abar_s) * eps_hat",
                                              "return x0_hat")]),
        ],
    },
}
