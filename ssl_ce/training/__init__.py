"""Pretraining: the loop (`train`) and what it is made of: optimisers, schedule, run records, weight averaging,
health checks, warm starts and growing. Evaluators never import this package: they judge checkpoints."""

from ssl_ce.training.loop import TrainResult, train

__all__ = ["TrainResult", "train"]
