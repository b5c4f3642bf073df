import torch

from aigc_course.data import load_digits
from aigc_course.judge import judge_accuracy, judge_agrees, load_judge
from aigc_course.metrics import frechet_distance, judge_report


def test_frechet_distance_of_a_sample_to_itself_is_zero():
    a = torch.randn(500, 6, generator=torch.Generator().manual_seed(0))
    assert abs(frechet_distance(a, a)) < 1e-6


def test_frechet_distance_matches_closed_form_for_diagonal_gaussians():
    # For diagonal covariances: |mu1 - mu2|^2 + sum (s1 - s2)^2 over standard deviations.
    g = torch.Generator().manual_seed(1)
    a = torch.randn(200_000, 3, generator=g) * torch.tensor([1.0, 2.0, 0.5])
    b = torch.randn(200_000, 3, generator=g) * torch.tensor([2.0, 1.0, 0.5]) + torch.tensor([1.0, 0.0, 0.0])
    expected = 1.0 + (1 - 2) ** 2 + (2 - 1) ** 2 + 0.0
    assert abs(frechet_distance(a, b) - expected) < 0.05


def test_judge_recognises_held_out_digits():
    judge = load_judge(progress=False)
    x, y = load_digits("test")
    assert judge_accuracy(judge, x, y) > 0.95


def test_judge_agrees_counts_one_class_or_one_label_per_digit():
    judge = load_judge(progress=False)
    x, y = load_digits("test")
    sevens = x[y == 7][:20]
    assert 18 <= judge_agrees(judge, sevens, 7) <= 20          # one class for every digit
    assert judge_agrees(judge, sevens, 1) <= 2
    assert judge_agrees(judge, x, y) == round(judge_accuracy(judge, x, y) * len(x))
    assert judge_agrees(judge, x, (y + 1) % 10) < 0.05 * len(x)   # wrong labels: almost none agree


def test_judge_report_orders_real_above_noise_and_a_repeated_digit():
    judge = load_judge(progress=False)
    x, y = load_digits("train")
    g = torch.Generator().manual_seed(0)
    real = judge_report(x[torch.randperm(len(x), generator=g)[:1000]], judge)
    noise = judge_report(torch.rand(1000, 1, 28, 28, generator=g), judge)
    single = judge_report(x[:1].repeat(1000, 1, 1, 1), judge)
    assert real.coverage == 10 and single.coverage == 1
    assert real.frechet < noise.frechet and real.frechet < single.frechet
    assert real.confidence > 0.9 > noise.confidence
    assert abs(sum(real.class_share) - 1) < 1e-6


def test_knn_precision_recall_separates_quality_from_coverage():
    from aigc_course.metrics import knn_precision_recall

    g = torch.Generator().manual_seed(0)
    centres = torch.tensor([[0.0, 0.0], [10.0, 0.0]])
    real = centres[torch.arange(1000) % 2] + torch.randn(1000, 2, generator=g)
    same = centres[torch.arange(1000) % 2] + torch.randn(1000, 2, generator=g)
    one_mode = centres[0] + torch.randn(1000, 2, generator=g)          # half the data missed: recall drops
    off = centres[torch.arange(1000) % 2] + torch.tensor([0.0, 8.0]) + torch.randn(1000, 2, generator=g)
    good, dropped, far = (knn_precision_recall(x, real) for x in (same, one_mode, off))
    assert good.precision > 0.9 and good.recall > 0.9, good
    assert dropped.precision > 0.9 and dropped.recall < 0.6, dropped
    assert far.precision < 0.1 and far.recall < 0.1, far
