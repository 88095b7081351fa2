"""`ssl-ce demo`: one local page to paint a hole on a photo and see each model's fill, and the HTTP API it uses.

    GET  /                  the page (plain HTML/JS, nothing fetched from elsewhere)
    GET  /api/v1/models     [{"name", "kind", "hole"}]: the loaded models and the hole each was trained for
    GET  /api/v1/photos     the names of the photos that ship offline; /api/v1/photos/<i> one of them as PNG
    POST /api/v1/inpaint    {"image": data URL, "mask": data URL (white = hole), "model": name (optional)}
                            -> the filled PNG at the photo's size; X-Fill-Seconds, X-Model, X-Note headers

Fills go through `ssl_ce.inpaint.fill_holes`, the code of `ssl-ce inpaint` and `load_inpainter`. Safe by
default: it binds 127.0.0.1, sends no cross-origin headers and refuses a POST whose Origin is another site,
caps the body and the pixels (decompression bombs) with a JSON 413/400, applies EXIF orientation, never opens a
file named by a request, loads the models once, and fills concurrent requests each in its own buffers.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import threading
import time
import warnings
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any
from urllib.parse import urlparse

import numpy as np
from PIL import Image, ImageOps

from ssl_ce.errors import SslCeError
from ssl_ce.inpaint import fill_holes
from ssl_ce.inpainters import CLASSICAL
from ssl_ce.pretrained import ModelInpainter

MAX_BODY_BYTES = 40 * 1024 * 1024
MAX_PIXELS = 24_000_000  # per image; PIL refuses larger ones before decoding them
CSP = ("default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
       "script-src 'self' 'unsafe-inline'")  # the page may load nothing from anywhere but this server
REFERENCE = "opencv telea"  # the classical fill shown beside the models
HEADLESS_CHROMIUM_ARGS = [  # a headless Debian Chromium on a machine with no network (the browser test, timings)
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--no-first-run", "--disable-sync", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"]


class BadRequest(Exception):
    """A request the server answers with `status` and a one-line JSON error."""

    def __init__(self, status: HTTPStatus, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class DemoModels:
    """The models the page offers, loaded once; each fills under its own lock."""

    models: dict[str, ModelInpainter]
    photos: dict[str, bytes] = field(default_factory=dict)  # offline sample photos as PNG, in memory
    locks: dict[str, threading.Lock] = field(init=False)

    def __post_init__(self) -> None:
        self.locks = {name: threading.Lock() for name in self.models}

    def listing(self) -> list[dict[str, str]]:
        entries = [{"name": name, "kind": "model", "hole": model.geometry.describe()}
                   for name, model in self.models.items()]
        return [*entries, {"name": REFERENCE, "kind": "classical", "hole": "any hole"}]

    def fill(self, name: str | None, image: np.ndarray, hole: np.ndarray) -> tuple[np.ndarray, str, float]:
        """(filled image, note, seconds) for the model `name` (the first when None)."""
        name = name or next(iter(self.models))
        start = time.perf_counter()
        if name == REFERENCE:
            return CLASSICAL[REFERENCE](image, hole), "", time.perf_counter() - start
        if name not in self.models:
            raise BadRequest(HTTPStatus.BAD_REQUEST, f"unknown model {name!r}; GET /api/v1/models lists them")
        notes: list[str] = []
        with self.locks[name]:
            filled = fill_holes(self.models[name], image, hole, notes)
        return filled, (notes[0] if notes else ""), time.perf_counter() - start


def decode_data_url(value: Any, what: str) -> Image.Image:
    """A PIL image from a base64 data URL (or bare base64), EXIF orientation applied, pixels capped."""
    if not isinstance(value, str) or not value:
        raise BadRequest(HTTPStatus.BAD_REQUEST, f"{what} must be a base64 data URL")
    payload = value.split(",", 1)[1] if value.startswith("data:") else value
    try:
        raw = base64.b64decode(payload, validate=False)
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(raw))
            if image.width * image.height > MAX_PIXELS:
                raise BadRequest(HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                                 f"{what} has {image.width * image.height:,} pixels, over the {MAX_PIXELS:,} limit")
            image.load()
        return ImageOps.exif_transpose(image)
    except BadRequest:
        raise
    except (binascii.Error, OSError, ValueError, Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise BadRequest(HTTPStatus.BAD_REQUEST, f"cannot read {what}: {exc}") from None


def parse_inpaint_request(body: bytes) -> tuple[np.ndarray, np.ndarray, str | None]:
    """(RGB uint8 image, bool hole, model name) from a POST /api/v1/inpaint body."""
    try:
        request = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadRequest(HTTPStatus.BAD_REQUEST, f"the body must be JSON: {exc}") from None
    if not isinstance(request, dict):
        raise BadRequest(HTTPStatus.BAD_REQUEST, "the body must be a JSON object with image and mask")
    image = decode_data_url(request.get("image"), "image").convert("RGB")
    mask = decode_data_url(request.get("mask"), "mask")
    if mask.size != image.size:
        raise BadRequest(HTTPStatus.BAD_REQUEST, f"the mask is {mask.size[0]}x{mask.size[1]} but the image is "
                                                 f"{image.size[0]}x{image.size[1]}; paint it at the photo's size")
    hole = np.asarray(mask.convert("L")) > 127
    model = request.get("model")
    if model is not None and not isinstance(model, str):
        raise BadRequest(HTTPStatus.BAD_REQUEST, "model must be a model's name (GET /api/v1/models)")
    return np.asarray(image).copy(), hole, model


def png_bytes(image: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return buffer.getvalue()


def page_html() -> bytes:
    return resources.files("ssl_ce.demo").joinpath("page.html").read_bytes()


class DemoHandler(BaseHTTPRequestHandler):
    server: DemoServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            super().log_message(format, *args)

    def _send(self, status: HTTPStatus, body: bytes, content_type: str, headers: dict[str, str] | None = None
              ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Content-Security-Policy", CSP)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: HTTPStatus, value: Any) -> None:
        self._send(status, json.dumps(value).encode(), "application/json")

    def _error(self, status: HTTPStatus, message: str) -> None:
        self._json(status, {"error": message})

    def do_GET(self) -> None:
        path = urlparse(self.path).path
        if path in ("/", "/index.html"):
            self._send(HTTPStatus.OK, page_html(), "text/html; charset=utf-8")
        elif path == "/api/v1/models":
            self._json(HTTPStatus.OK, self.server.demo.listing())
        elif path == "/api/v1/photos":
            self._json(HTTPStatus.OK, list(self.server.demo.photos))
        elif path.startswith("/api/v1/photos/"):
            names = list(self.server.demo.photos)
            index = path.rsplit("/", 1)[1]
            if not index.isdigit() or int(index) >= len(names):  # an index into memory, never a file name
                self._error(HTTPStatus.NOT_FOUND, f"no photo {index}; GET /api/v1/photos lists {len(names)}")
                return
            self._send(HTTPStatus.OK, self.server.demo.photos[names[int(index)]], "image/png")
        else:
            self._error(HTTPStatus.NOT_FOUND, f"no such page: {path}")

    def do_POST(self) -> None:
        try:
            if urlparse(self.path).path != "/api/v1/inpaint":
                raise BadRequest(HTTPStatus.NOT_FOUND, "POST goes to /api/v1/inpaint")
            origin = self.headers.get("Origin")
            if origin and urlparse(origin).netloc != self.headers.get("Host"):
                raise BadRequest(HTTPStatus.FORBIDDEN, f"cross-origin requests are refused (Origin {origin})")
            try:
                length = int(self.headers.get("Content-Length", ""))
            except ValueError:
                raise BadRequest(HTTPStatus.LENGTH_REQUIRED, "a Content-Length header is required") from None
            if length > MAX_BODY_BYTES:
                self.close_connection = True  # the unread body must not be taken for the next request
                raise BadRequest(HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                                 f"the body is {length:,} bytes, over the {MAX_BODY_BYTES:,} limit")
            image, hole, model = parse_inpaint_request(self.rfile.read(length))
            filled, note, seconds = self.server.demo.fill(model, image, hole)
        except BadRequest as exc:
            self._error(exc.status, str(exc))
            return
        except SslCeError as exc:
            self._error(HTTPStatus.BAD_REQUEST, str(exc))
            return
        name = model or next(iter(self.server.demo.models))
        self._send(HTTPStatus.OK, png_bytes(filled), "image/png",
                   {"X-Fill-Seconds": f"{seconds:.3f}", "X-Model": name, "X-Note": note.encode("ascii", "replace")
                    .decode()})


class DemoServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, demo: DemoModels, host: str = "127.0.0.1", port: int = 8080, verbose: bool = False) -> None:
        super().__init__((host, port), DemoHandler)
        self.demo = demo
        self.verbose = verbose

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}/"


def offline_photos() -> dict[str, bytes]:
    """scikit-image's sample photos (shipped inside the package) as PNG, for the page's 'pick a photo'."""
    from skimage import data

    return {name: png_bytes(np.asarray(getattr(data, name)())) for name in ("chelsea", "astronaut", "coffee",
                                                                            "rocket")}
