"""The linear-probe protocol on fixed features, a pure function: standardise, fit a multinomial logistic
regression with L-BFGS, choose its L2 strength on a validation split carved from the training data (the
test split is never looked at until the end), refit on train + validation, report test accuracy."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

WEIGHT_DECAYS = (1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1)


@dataclass(frozen=True)
class ProbeResult:
    top1: float
    top5: float | None  # None when there are 5 classes or fewer
    weight_decay: float
    val_top1: float


def topk_accuracy(logits: torch.Tensor, labels: torch.Tensor, k: int) -> float:
    top = logits.topk(min(k, logits.shape[1]), dim=1).indices
    return (top == labels[:, None]).any(dim=1).float().mean().item()


def stratified_split(labels: torch.Tensor, fraction: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Indices (keep, held_out) with `fraction` of every class held out (at least one where a class has 2+)."""
    generator = torch.Generator().manual_seed(seed)
    keep, held = [], []
    for cls in labels.unique():
        idx = (labels == cls).nonzero().flatten()
        idx = idx[torch.randperm(len(idx), generator=generator)]
        n_held = min(len(idx) - 1, max(1, round(fraction * len(idx)))) if len(idx) > 1 else 0
        held.append(idx[:n_held])
        keep.append(idx[n_held:])
    return torch.cat(keep).sort().values, torch.cat(held).sort().values


def fit_softmax(x: torch.Tensor, y: torch.Tensor, num_classes: int, weight_decay: float,
                max_iter: int = 300) -> tuple[torch.Tensor, torch.Tensor]:
    """Multinomial logistic regression: argmin CE + weight_decay/2 * |W|^2, full-batch L-BFGS."""
    weight = torch.zeros(x.shape[1], num_classes, dtype=torch.float32, requires_grad=True)
    bias = torch.zeros(num_classes, dtype=torch.float32, requires_grad=True)
    x32, optimizer = x.float(), torch.optim.LBFGS([weight, bias], lr=1, max_iter=max_iter,
                                                     line_search_fn="strong_wolfe", tolerance_grad=1e-7)

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        loss = F.cross_entropy(x32 @ weight + bias, y) + 0.5 * weight_decay * weight.pow(2).sum()
        loss.backward()
        return loss

    optimizer.step(closure)
    return weight.detach(), bias.detach()


def _standardise(train: torch.Tensor, *others: torch.Tensor) -> list[torch.Tensor]:
    mean, std = train.mean(0), train.std(0).clamp(min=1e-6)
    return [(t - mean) / std for t in (train, *others)]


def linear_probe(train_x: torch.Tensor, train_y: torch.Tensor, test_x: torch.Tensor, test_y: torch.Tensor,
                 num_classes: int, seed: int = 0, val_fraction: float = 0.2,
                 weight_decays: tuple[float, ...] = WEIGHT_DECAYS) -> ProbeResult:
    fit_idx, val_idx = stratified_split(train_y, val_fraction, seed)
    scores = {}
    fit_x, val_x = _standardise(train_x[fit_idx], train_x[val_idx])
    for wd in weight_decays:
        weight, bias = fit_softmax(fit_x, train_y[fit_idx], num_classes, wd)
        scores[wd] = topk_accuracy(val_x.float() @ weight + bias, train_y[val_idx], 1) if len(val_idx) else 0.0
    best = max(weight_decays, key=lambda wd: (scores[wd], wd))  # ties: the stronger regulariser
    all_x, test_std = _standardise(train_x, test_x)
    weight, bias = fit_softmax(all_x, train_y, num_classes, best)
    logits = test_std.float() @ weight + bias
    top5 = topk_accuracy(logits, test_y, 5) if num_classes > 5 else None
    return ProbeResult(topk_accuracy(logits, test_y, 1), top5, best, scores[best])
