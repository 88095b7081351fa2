"""The fine-tuning protocol: encoder + linear head trained end to end (SGD, cosine schedule, the encoder at
a tenth of the head's learning rate, random flips), then top-1/top-5 on the test split."""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from ssl_ce.data.batches import epoch_batches, random_flip, to_model_input
from ssl_ce.data.datasets import ImageDataset
from ssl_ce.evaluators.linear_probe import topk_accuracy
from ssl_ce.methods.supervised import Classifier
from ssl_ce.runtime import autocast_context


@dataclass(frozen=True)
class FinetuneSettings:
    epochs: int = 5
    batch_size: int = 128
    head_lr: float = 0.05
    encoder_lr_ratio: float = 0.1
    weight_decay: float = 5e-4
    precision: str = "auto"


@dataclass(frozen=True)
class FinetuneResult:
    top1: float
    top5: float | None


def finetune(encoder: nn.Module, train: ImageDataset, train_idx: torch.Tensor, test: ImageDataset,
             num_classes: int, settings: FinetuneSettings, device: torch.device, seed: int = 0,
             progress: bool = True) -> FinetuneResult:
    """Fine-tunes a copy of `encoder` on `train[train_idx]`; the original encoder is left untouched."""
    torch.manual_seed(seed)
    model = Classifier(copy.deepcopy(encoder), num_classes).to(device).train()
    head_lr = settings.head_lr
    optimizer = torch.optim.SGD([
        {"params": model.encoder.parameters(), "lr": head_lr * settings.encoder_lr_ratio},
        {"params": model.head.parameters(), "lr": head_lr}], momentum=0.9, nesterov=True,
        weight_decay=settings.weight_decay)
    batch = min(settings.batch_size, len(train_idx))
    steps_per_epoch = max(1, len(train_idx) // batch)
    total = steps_per_epoch * settings.epochs
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: 0.5 * (1 + math.cos(math.pi * s / total)))
    autocast = autocast_context(settings.precision, device)
    flips = torch.Generator().manual_seed(seed)
    bar = tqdm(total=total, desc="fine-tune", unit="step", disable=not progress, leave=False)
    for epoch in range(settings.epochs):
        for positions in epoch_batches(len(train_idx), batch, seed, epoch):
            images, labels = train.batch(train_idx[positions].tolist())
            images = random_flip(images, flips)
            with autocast:
                loss = F.cross_entropy(model(to_model_input(images, device, False)).float(), labels.to(device))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
            bar.update(1)
    bar.close()
    model.eval()
    logits = []
    with torch.no_grad(), autocast:
        for start in range(0, len(test), 256):
            images, _ = test.batch(list(range(start, min(start + 256, len(test)))))
            logits.append(model(to_model_input(images, device, False)).float().cpu())
    logits = torch.cat(logits)
    top5 = topk_accuracy(logits, test.labels, 5) if num_classes > 5 else None
    return FinetuneResult(topk_accuracy(logits, test.labels, 1), top5)
