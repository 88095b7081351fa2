"""`ssl-ce demo` in a real browser: headless Chromium (Debian's `chromium`) driven by Playwright loads the page,
picks a photo, paints a stroke with the mouse, presses Fill and checks the returned image; every request the
page makes must go to the test server. Skips where Chromium or Playwright is absent (CI installs both).

SSL_CE_DEMO_SCREENSHOT=FILE also saves a screenshot of the page with the hole and the fills (the README's)."""

from __future__ import annotations

import base64
import io
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from ssl_ce.demo.server import HEADLESS_CHROMIUM_ARGS, DemoModels, DemoServer, offline_photos
from ssl_ce.pretrained import ModelInpainter
from ssl_ce.training import train

from .conftest import tiny_config

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
WEIGHTS = Path(__file__).resolve().parent.parent / "weights"
PUBLISHED = [WEIGHTS / "inpainter-freeform-roads-128.safetensors", WEIGHTS / "inpainter-center-roads-128.safetensors"]

READ_FIRST_RESULT = """async () => {
  const link = document.querySelector('.result a');
  const bytes = new Uint8Array(await (await fetch(link.href)).arrayBuffer());
  let text = '';
  for (const b of bytes) text += String.fromCharCode(b);
  return btoa(text);
}"""

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium on PATH (apt-get install chromium)")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    if os.environ.get("SSL_CE_DEMO_SCREENSHOT") and all(path.is_file() for path in PUBLISHED):
        checkpoints = PUBLISHED  # the README's picture shows the published inpainters
    else:
        checkpoints = [train(tiny_config(train={"max_steps": 2}), tmp_path_factory.mktemp("demo") / "run",
                             progress=False).checkpoint]
    models = [ModelInpainter(path, torch.device("cpu")) for path in checkpoints]
    running = DemoServer(DemoModels({model.name: model for model in models}, offline_photos()), port=0)
    threading.Thread(target=running.serve_forever, daemon=True).start()
    yield running
    running.shutdown()
    running.server_close()


def test_paint_a_stroke_fill_and_get_the_photo_back_changed_only_under_the_stroke(server: DemoServer) -> None:
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright (the browser extra)")
    requested: list[str] = []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=HEADLESS_CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1100}, bypass_csp=True)  # for wait_for_function
        page.on("request", lambda r: requested.append(r.url))
        page.goto(server.url)
        page.wait_for_selector("#models li")
        page.select_option("#samples", "0")  # chelsea the cat, 451 x 300
        page.wait_for_function("document.getElementById('photo').width === 451")
        box = page.locator("#mask").bounding_box()
        scale = box["width"] / 451
        page.mouse.move(box["x"] + 180 * scale, box["y"] + 100 * scale)
        page.mouse.down()
        for x in range(180, 281, 10):  # a horizontal stroke across the cat's face
            page.mouse.move(box["x"] + x * scale, box["y"] + 110 * scale)
        page.mouse.up()
        page.click("#fill")
        page.wait_for_selector(".result img")
        shown = len(server.demo.models) + 1  # the models and Telea
        page.wait_for_function(f"document.querySelectorAll('.result').length === {shown}")
        if os.environ.get("SSL_CE_DEMO_SCREENSHOT"):
            page.screenshot(path=os.environ["SSL_CE_DEMO_SCREENSHOT"], full_page=True)
        labels = page.locator(".result .label").all_inner_texts()
        downloaded = page.evaluate(READ_FIRST_RESULT)  # the bytes behind the first fill's download link
        filled = np.asarray(Image.open(io.BytesIO(base64.b64decode(downloaded))).convert("RGB"))
        browser.close()
    original = np.asarray(Image.open(io.BytesIO(offline_photos()["chelsea"])).convert("RGB"))
    changed = np.any(filled != original, axis=-1)
    rows, cols = np.nonzero(changed)
    assert filled.shape == original.shape and changed.any()
    brush = 24  # the page's default brush, in photo pixels
    assert rows.min() >= 100 - brush and rows.max() <= 110 + brush and cols.min() >= 180 - brush \
        and cols.max() <= 280 + brush  # nothing outside the stroke changed
    assert labels[-1] == "opencv telea" and len(labels) == shown
    host = server.url.rstrip("/")
    assert requested and all(url.startswith(host) or url.startswith(("data:", "blob:")) for url in requested), requested
