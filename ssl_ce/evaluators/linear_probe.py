"""The linear-probe protocol on fixed features, a pure function: standardise, fit a multinomial logistic
regression with L-BFGS, choose its L2 strength on a validation split carved from the training data (the
test split is never looked at until the end), refit on train + validation, report test accuracy."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ssl_ce.data.splits import stratified_split

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


def fit_softmax(x: torch.Tensor, y: torch.Tensor, num_classes: int, weight_decay: float,
                max_iter: int = 300) -> tuple[torch.Tensor, torch.Tensor]:
    """Multinomial logistic regression: argmin CE + weight_decay/2 * |W|^2, full-batch L-BFGS.

    The gradient is written out, (softmax - onehot)^T x, rather than left to autograd: autograd forms it as
    x^T (softmax - onehot), a product BLAS runs 3-4x slower for a tall x, and each step streams all of x
    twice, which is the whole cost for wide layers (conv3: 4096-d)."""
    x32 = x.float()
    weight = torch.zeros(x32.shape[1], num_classes, dtype=torch.float32, requires_grad=True)
    bias = torch.zeros(num_classes, dtype=torch.float32, requires_grad=True)
    optimizer = torch.optim.LBFGS([weight, bias], lr=1, max_iter=max_iter, line_search_fn="strong_wolfe",
                                  tolerance_grad=1e-7)
    rows = torch.arange(len(y))

    @torch.no_grad()
    def closure() -> torch.Tensor:
        log_p = torch.addmm(bias, x32, weight).log_softmax(1)
        loss = -log_p[rows, y].mean() + 0.5 * weight_decay * weight.pow(2).sum()
        residual = log_p.exp_()
        residual[rows, y] -= 1
        residual /= len(y)
        weight.grad = (residual.t() @ x32).t().contiguous() + weight_decay * weight
        bias.grad = residual.sum(0)
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
