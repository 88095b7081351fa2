"""`ssl-ce demo`'s HTTP API, without a browser: the server on 127.0.0.1, port 0, in a thread."""

from __future__ import annotations

import base64
import http.client
import io
import json
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import torch
from PIL import Image

from ssl_ce.demo import server as demo_server
from ssl_ce.demo.server import REFERENCE, DemoModels, DemoServer
from ssl_ce.inpaint import fill_holes
from ssl_ce.pretrained import ModelInpainter
from ssl_ce.runtime import resident_mb
from ssl_ce.training import train

from .conftest import tiny_config


def data_url(image: Image.Image, fmt: str = "PNG", **save: object) -> str:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **save)
    return f"data:image/{fmt.lower()};base64," + base64.b64encode(buffer.getvalue()).decode()


def photo_and_hole(seed: int, size: tuple[int, int] = (90, 70)) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    hole = np.zeros((size[1], size[0]), dtype=bool)
    top, left = int(rng.integers(5, size[1] - 30)), int(rng.integers(5, size[0] - 30))
    hole[top : top + 20, left : left + 24] = True
    return image, hole


def body_for(image: np.ndarray, hole: np.ndarray, **extra: object) -> bytes:
    mask = Image.fromarray((hole * 255).astype(np.uint8))
    return json.dumps({"image": data_url(Image.fromarray(image)), "mask": data_url(mask), **extra}).encode()


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> ModelInpainter:
    path = train(tiny_config(train={"max_steps": 2}), tmp_path_factory.mktemp("demo") / "run",
                 progress=False).checkpoint
    return ModelInpainter(path, torch.device("cpu"))


@pytest.fixture(scope="module")
def server(model: ModelInpainter) -> Iterator[DemoServer]:
    running = DemoServer(DemoModels({"tiny": model}, {"sample": b"\x89PNG"}), port=0)
    thread = threading.Thread(target=running.serve_forever, daemon=True)
    thread.start()
    yield running
    running.shutdown()
    running.server_close()


def request(server: DemoServer, method: str, path: str, body: bytes | None = None,
            headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection(*server.server_address[:2], timeout=60)
    connection.request(method, path, body=body, headers=headers or {})
    response = connection.getresponse()
    answer = response.status, dict(response.getheaders()), response.read()
    connection.close()
    return answer


def test_it_binds_the_loopback_address_and_serves_a_page_that_fetches_nothing_elsewhere(server: DemoServer) -> None:
    assert server.server_address[0] == "127.0.0.1"
    status, headers, page = request(server, "GET", "/")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert b"http://" not in page and b"https://" not in page and b"<canvas" in page
    assert "Access-Control-Allow-Origin" not in headers and "default-src 'self'" in headers["Content-Security-Policy"]


def test_models_are_listed_with_the_hole_each_was_trained_for(server: DemoServer) -> None:
    status, _, body = request(server, "GET", "/api/v1/models")
    models = json.loads(body)
    assert status == 200 and [m["name"] for m in models] == ["tiny", REFERENCE]
    assert "center square" in models[0]["hole"]


def test_a_fill_is_the_photo_changed_only_in_the_hole_and_the_same_as_ssl_ce_inpaint(server: DemoServer,
                                                                                      model: ModelInpainter) -> None:
    image, hole = photo_and_hole(0)
    status, headers, png = request(server, "POST", "/api/v1/inpaint", body_for(image, hole))
    assert status == 200 and headers["Content-Type"] == "image/png" and headers["X-Model"] == "tiny"
    filled = np.asarray(Image.open(io.BytesIO(png)))
    assert filled.shape == image.shape and np.array_equal(filled[~hole], image[~hole])
    assert np.array_equal(filled, fill_holes(model, image, hole)) and float(headers["X-Fill-Seconds"]) >= 0
    status, _, telea = request(server, "POST", "/api/v1/inpaint", body_for(image, hole, model=REFERENCE))
    assert status == 200 and not np.array_equal(np.asarray(Image.open(io.BytesIO(telea))), filled)


def test_a_stroke_is_filled_with_a_note_that_it_does_not_suit_a_centre_model(server: DemoServer) -> None:
    image, _ = photo_and_hole(1)
    stroke = np.zeros(image.shape[:2], dtype=bool)
    stroke[10:60, 40:42] = True
    status, headers, _ = request(server, "POST", "/api/v1/inpaint", body_for(image, stroke))
    assert status == 200 and "free-form" in headers["X-Note"]


def _error(server: DemoServer, body: bytes, headers: dict[str, str] | None = None) -> tuple[int, str]:
    status, _, answer = request(server, "POST", "/api/v1/inpaint", body, headers)
    message = json.loads(answer)["error"]
    assert "\n" not in message
    return status, message


def test_bad_requests_are_one_line_json_errors(server: DemoServer, monkeypatch: pytest.MonkeyPatch) -> None:
    image, hole = photo_and_hole(2)
    good = json.loads(body_for(image, hole))
    assert _error(server, b"not json")[0] == 400
    assert _error(server, json.dumps({"image": good["image"]}).encode()) == (400, "mask must be a base64 data URL")
    small = data_url(Image.fromarray(np.zeros((10, 10), np.uint8)))
    assert "paint it at the photo's size" in _error(server, json.dumps({**good, "mask": small}).encode())[1]
    garbage = "data:image/png;base64," + base64.b64encode(b"not an image").decode()
    assert _error(server, json.dumps({**good, "image": garbage}).encode())[1].startswith("cannot read image")
    assert _error(server, json.dumps({**good, "model": "nope"}).encode())[1].startswith("unknown model 'nope'")
    assert _error(server, body_for(image, hole), {"Origin": "http://evil.example"})[0] == 403
    monkeypatch.setattr(demo_server, "MAX_PIXELS", 1000)
    assert _error(server, body_for(image, hole))[0] == 413
    monkeypatch.setattr(demo_server, "MAX_BODY_BYTES", 100)
    assert "over the 100 limit" in _error(server, body_for(image, hole))[1]
    assert request(server, "GET", "/api/v1/photos/../../etc/passwd")[0] == 404  # photos are an index, not paths


def test_exif_orientation_is_applied(server: DemoServer) -> None:
    image, _ = photo_and_hole(3, size=(90, 60))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees on display: the photo is 60 wide and 90 tall as a person sees it
    body = json.dumps({"image": data_url(Image.fromarray(image), "JPEG", exif=exif.tobytes()),
                       "mask": data_url(Image.fromarray(np.full((90, 60), 255, np.uint8)))}).encode()
    status, _, png = request(server, "POST", "/api/v1/inpaint", body)
    assert status == 200 and Image.open(io.BytesIO(png)).size == (60, 90)


def test_a_burst_of_concurrent_requests_is_answered_right_with_nothing_mixed_up(server: DemoServer,
                                                                                model: ModelInpainter) -> None:
    cases = [photo_and_hole(10 + i) for i in range(40)]
    expected = [fill_holes(model, image, hole) for image, hole in cases]

    def one(i: int) -> np.ndarray:
        status, _, png = request(server, "POST", "/api/v1/inpaint", body_for(*cases[i]))
        assert status == 200
        return np.asarray(Image.open(io.BytesIO(png)))

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(one, range(40)))  # warm: allocator pools and caches fill once
        before = resident_mb()
        answers = list(pool.map(one, range(40)))
    assert all(np.array_equal(a, e) for a, e in zip(answers, expected, strict=True))
    assert resident_mb() - before < 50  # flat: a second burst keeps nothing
