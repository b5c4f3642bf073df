"""Sample quality as the judge sees it: Frechet distance, confidence, class coverage."""

from __future__ import annotations

from dataclasses import dataclass

import torch


def frechet_distance(a: torch.Tensor, b: torch.Tensor) -> float:
    """Return |mu_a - mu_b|^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2)) between Gaussians fitted to rows of a and b."""
    a, b = a.double(), b.double()
    mu_a, mu_b = a.mean(0), b.mean(0)
    s_a, s_b = torch.cov(a.T), torch.cov(b.T)
    # Tr((S_a S_b)^(1/2)) = sum of sqrt of eigenvalues of S_a^(1/2) S_b S_a^(1/2) (symmetric PSD).
    w, v = torch.linalg.eigh(s_a)
    root_a = (v * w.clamp(min=0).sqrt()) @ v.T
    cross = torch.linalg.eigvalsh(root_a @ s_b @ root_a).clamp(min=0).sqrt().sum()
    return float((mu_a - mu_b).pow(2).sum() + s_a.trace() + s_b.trace() - 2 * cross)


@dataclass
class SampleReport:
    frechet: float          # Frechet distance of judge features to the real test digits (lower is better)
    confidence: float       # mean max softmax probability of the judge (higher = more recognisable)
    class_share: list[float]  # share of samples the judge assigns to each digit 0..9
    coverage: int           # number of classes holding at least `min_share` of the samples

    def __str__(self) -> str:
        shares = " ".join(f"{s:.2f}" for s in self.class_share)
        return (f"Frechet {self.frechet:7.2f} | confidence {self.confidence:.3f} | "
                f"classes covered {self.coverage}/10 | shares {shares}")


@torch.no_grad()
def judge_report(samples: torch.Tensor, judge=None, reference: torch.Tensor | None = None,
                 min_share: float = 0.05, batch_size: int = 1000) -> SampleReport:
    """Score samples ((N, 1, 28, 28) in [0, 1]) against `reference` (default: the 1,000 test digits)."""
    from aigc_course.data import load_digits
    from aigc_course.judge import load_judge

    judge = judge or load_judge()
    if reference is None:
        reference, _ = load_digits("test")

    def run(x):
        feats, probs = [], []
        for chunk in x.split(batch_size):
            f = judge.features(chunk.float().cpu())
            feats.append(f)
            probs.append(judge.head(f).softmax(1))
        return torch.cat(feats), torch.cat(probs)

    f_s, p_s = run(samples)
    f_r, _ = run(reference)
    share = torch.bincount(p_s.argmax(1), minlength=10).float() / len(samples)
    return SampleReport(
        frechet=frechet_distance(f_s, f_r),
        confidence=p_s.max(1).values.mean().item(),
        class_share=share.tolist(),
        coverage=int((share >= min_share).sum()),
    )


@dataclass
class PrecisionRecall:
    precision: float  # share of samples inside the real data's k-NN manifold (samples that look like data)
    recall: float     # share of real points inside the samples' k-NN manifold (data the samples reach)

    def __str__(self) -> str:
        return f"precision {self.precision:.2f} | recall {self.recall:.2f}"


def _knn_radius(feats: torch.Tensor, k: int) -> torch.Tensor:
    """Return the distance of each row to its k-th nearest other row, (N,)."""
    return torch.cdist(feats, feats).kthvalue(k + 1, dim=1).values   # +1: the row itself is at distance 0


def _inside(points: torch.Tensor, centres: torch.Tensor, radii: torch.Tensor) -> torch.Tensor:
    """Return, per row of points, whether it lies within radii[j] of some centres[j], (N,) bool."""
    return (torch.cdist(points, centres) <= radii[None, :]).any(dim=1)


def knn_precision_recall(samples: torch.Tensor, real: torch.Tensor, k: int = 3) -> PrecisionRecall:
    """Return k-NN manifold precision and recall of sample features (N, d) against real features (M, d).

    Each set's manifold is the union of balls around its points, each ball reaching the point's k-th
    nearest neighbour in the same set (the "improved precision and recall" of Kynkäänniemi et al., 2019).
    Precision: share of samples inside the real manifold; recall: share of real points inside
    the samples' manifold. Use sets of equal size.
    """
    s, r = samples.double(), real.double()
    precision = _inside(s, r, _knn_radius(r, k)).double().mean().item()
    recall = _inside(r, s, _knn_radius(s, k)).double().mean().item()
    return PrecisionRecall(precision=precision, recall=recall)


@torch.no_grad()
def judge_precision_recall(samples: torch.Tensor, reference: torch.Tensor, judge=None, k: int = 3,
                           batch_size: int = 1000) -> PrecisionRecall:
    """k-NN precision/recall of images ((N, 1, 28, 28) in [0, 1]) against `reference` in the judge's features."""
    from aigc_course.judge import load_judge

    judge = judge or load_judge()
    feats = [torch.cat([judge.features(c.float().cpu()) for c in x.split(batch_size)]) for x in (samples, reference)]
    return knn_precision_recall(feats[0], feats[1], k=k)
