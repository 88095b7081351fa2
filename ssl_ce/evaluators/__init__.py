"""Evaluators: checkpoint in, rows out. Registered in ssl_ce.registries.EVALUATORS (the built-ins, plus any that
an installed package declares in the `ssl_ce.evaluators` entry-point group, each naming an `Evaluator` object).

Nothing here imports training: an evaluator judges a file, whatever made it.
"""

from ssl_ce.evaluators.common import Evaluator, NoOptions

__all__ = ["Evaluator", "NoOptions"]
