"""ssl-ce: Context Encoders as a benchmark suite for self-supervised feature learning."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("ssl-ce")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+unknown"

from ssl_ce.errors import SslCeError

__all__ = ["SslCeError", "__version__", "load_encoder", "load_inpainter"]


def __getattr__(name: str):  # lazy, so `ssl-ce --help` does not pay for torch, OpenCV and FAISS
    if name in ("load_encoder", "load_inpainter"):
        from ssl_ce import api

        return getattr(api, name)
    raise AttributeError(f"module 'ssl_ce' has no attribute {name!r}")
