"""ssl-ce: Context Encoders as a benchmark suite for self-supervised feature learning."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("ssl-ce")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+unknown"

from ssl_ce.errors import SslCeError

__all__ = ["SslCeError", "__version__"]
