import torch

from aigc_course.privacy import (
    accuracy,
    copying_generator,
    memorisation_check,
    nearest_distances,
    train_classifier,
)


def _blobs(n, seed):
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 2
    x = torch.rand(n, 1, 28, 28, generator=g) * 0.3
    x[y == 1, :, :14] += 0.6
    return x.clamp(0, 1), y


def test_nearest_distance_is_zero_for_a_copy_and_matches_brute_force():
    ref = torch.rand(20, 1, 28, 28)
    q = torch.cat([ref[:3], torch.rand(4, 1, 28, 28)])
    d = nearest_distances(q, ref, batch_size=2)
    brute = torch.stack([(ref - qi).flatten(1).norm(dim=1).min() for qi in q])
    assert torch.allclose(d, brute, atol=1e-5) and (d[:3] < 1e-5).all()


def test_copying_generator_is_flagged_and_fresh_samples_are_not():
    train, _ = _blobs(400, 0)
    held, _ = _blobs(400, 1)
    fresh, _ = _blobs(400, 2)
    copy = memorisation_check(copying_generator(train, 400, seed=3), train, held)
    ok = memorisation_check(fresh, train, held)
    assert copy.near_copies > 0.9 and ok.near_copies < 0.1
    assert 0.35 < ok.closer_to_train < 0.65


def test_classifier_learns_a_separable_task():
    x, y = _blobs(200, 0)
    xt, yt = _blobs(100, 1)
    assert accuracy(train_classifier(x, y, steps=100), xt, yt) > 0.95


def test_the_training_subset_matches_the_held_out_class_counts_when_labels_are_given():
    # class 1 digits sit far from class 0 digits; the held-out set is all class 1, the training set mostly class 0
    train, y_train = _blobs(400, 0)
    train, y_train = train[y_train == 0][:180], y_train[y_train == 0][:180]
    ones, y_ones = _blobs(80, 1)
    train, y_train = torch.cat([train, ones[y_ones == 1]]), torch.cat([y_train, y_ones[y_ones == 1]])
    held, y_held = _blobs(80, 2)
    held, y_held = held[y_held == 1], y_held[y_held == 1]
    fresh, y_fresh = _blobs(200, 3)
    fresh = fresh[y_fresh == 1]
    matched = memorisation_check(fresh, train, held, train_labels=y_train, held_out_labels=y_held)
    unmatched = memorisation_check(fresh, train, held)
    assert 0.3 < matched.closer_to_train < 0.7       # like against like: no preference
    assert unmatched.closer_to_train < matched.closer_to_train - 0.2   # a random subset is mostly class 0: far away
