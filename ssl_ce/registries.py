"""The single source of component names: one table per axis, each with the one explicit list of the modules
that hold its built-ins and the entry-point group through which installed packages add more.

Adding a component is one file that registers it plus one line here (or an entry point, with no line at all).
The CLI's choices, config validation, the report and the benchmarks read these tables; nothing else types a
component's name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ssl_ce.registry import Registry

if TYPE_CHECKING:  # the component types, for readers and type checkers; importing them here would load torch
    from ssl_ce.data.datasets import DataSource
    from ssl_ce.data.masks import MaskSpec
    from ssl_ce.evaluators.common import Evaluator
    from ssl_ce.methods.base import MethodSpec
    from ssl_ce.models import ModelSpec

DATASETS: Registry[DataSource] = Registry(
    "data source", ["ssl_ce.data.photos", "ssl_ce.data.cifar10", "ssl_ce.data.folder"], "ssl_ce.data_sources")
MASKS: Registry[MaskSpec] = Registry("mask", ["ssl_ce.data.masks", "ssl_ce.data.freeform"], "ssl_ce.masks")
MODELS: Registry[ModelSpec] = Registry("model", ["ssl_ce.models"], "ssl_ce.models")
METHODS: Registry[MethodSpec] = Registry(
    "method", ["ssl_ce.methods.context_encoder", "ssl_ce.methods.reconstruction", "ssl_ce.methods.rotation",
               "ssl_ce.methods.random_init", "ssl_ce.methods.supervised"], "ssl_ce.methods")
EVALUATORS: Registry[Evaluator] = Registry(
    "evaluator", ["ssl_ce.evaluators.classification", "ssl_ce.evaluators.nn_retrieval",
                  "ssl_ce.evaluators.inpainting"], "ssl_ce.evaluators")

ALL: dict[str, Registry[Any]] = {"data.source": DATASETS, "mask.type": MASKS, "model.name": MODELS,
                                 "method.name": METHODS}  # config key -> the table its value names
