"""Fine-tuning: a new run that starts from another run's weights (`train.init_from`) with fresh optimisers,
schedule and step count. Unlike `--resume`, the config may differ (loss weights, learning rate, epochs).

Loading is strict per part, never a silent partial load: the encoder must match; the rest of the generator
(decoder, head) and the discriminator are taken when the file has them and they match, and are otherwise
left freshly initialised, which run.json records (e.g. a supervised head on a context encoder's encoder).
A generator whose only difference is that this run's is wider (`model.width_mult`, `model.bottleneck`) is
grown into it so that it computes what it did (ssl_ce.grow), and run.json lists the grown tensors.
"""

from __future__ import annotations

from pathlib import Path

from torch import nn

from ssl_ce.checkpoint import load_checkpoint, load_module, state_mismatch
from ssl_ce.errors import SslCeError
from ssl_ce.training.grow import grown_state


def init_from(path: str | Path, modules: dict[str, nn.Module]) -> dict[str, object]:
    """Loads `path` (a checkpoint or an export) into `modules` ("generator", optionally "discriminator");
    returns what was loaded and what was left fresh, for run.json."""
    if not Path(path).is_file():
        raise SslCeError(f"train.init_from: no such file: {path}")
    ckpt = load_checkpoint(path, prefixes=("generator", "discriminator"))
    generator = modules["generator"]
    encoder_state = ckpt.module_state("generator.encoder")
    if not encoder_state:
        raise SslCeError(f"train.init_from: {path} holds no encoder weights")
    loaded, fresh, grown = [], [], []
    whole = ckpt.module_state("generator")
    growth = grown_state(generator, whole) if ckpt.part != "encoder" else None  # same shapes: nothing grown
    if growth is not None:
        whole, grown = growth
        load_module(generator, whole, f"generator in {path}")
        loaded.append("generator")
    else:
        load_module(generator.encoder, encoder_state, f"train.init_from: encoder in {path}")
        loaded.append("generator.encoder")
        fresh.append("generator (all but the encoder)")
    if "discriminator" in modules:
        state = ckpt.module_state("discriminator")
        if state and not state_mismatch(modules["discriminator"], state):
            load_module(modules["discriminator"], state, f"discriminator in {path}")
            loaded.append("discriminator")
        else:
            fresh.append("discriminator")
    return {"path": str(path), "step": ckpt.step, "part": ckpt.part, "loaded": loaded, "fresh": fresh,
            "grown": grown}
