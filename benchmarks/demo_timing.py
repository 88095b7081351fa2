"""The demo's figures (issue 45), measured in one run against a published inpainter: how soon the page is ready,
a 1-megapixel photo's fill there and back, and a burst of concurrent requests (answers, latency, memory).

    python benchmarks/demo_timing.py [--checkpoint weights/inpainter-freeform-roads-128.safetensors] [--browser]

The server is `ssl-ce demo`'s own (127.0.0.1, a free port, in a thread of this process). The page's readiness
is the time to fetch what it loads at start (the page, the model list, the photo list); with --browser, where
Debian's Chromium and Playwright are installed, also the time until a real browser shows the model list. The
fills are chelsea the cat resized to 1224x816 (1.0 Mpixel) with the hand-drawn stroke of examples/masks. Writes
results/demo_timing.md, with the machine that made it.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import io
import json
import shutil
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import torch
from PIL import Image

from ssl_ce.demo.server import HEADLESS_CHROMIUM_ARGS, DemoModels, DemoServer, offline_photos
from ssl_ce.pretrained import ModelInpainter
from ssl_ce.provenance import environment, machine_line
from ssl_ce.results import markdown_table
from ssl_ce.runtime import resident_mb

REPO = Path(__file__).resolve().parent.parent
MEGAPIXEL = (1224, 816)  # chelsea's 451x300 aspect at 1.0 Mpixel
AT_START = ("/", "/api/v1/models", "/api/v1/photos")  # what the page fetches before it can be used


def fetch(server: DemoServer, method: str, path: str, body: bytes | None = None) -> tuple[int, dict, bytes]:
    connection = http.client.HTTPConnection(*server.server_address[:2], timeout=120)
    connection.request(method, path, body=body)
    response = connection.getresponse()
    answer = response.status, dict(response.getheaders()), response.read()
    connection.close()
    return answer


def data_url(image: Image.Image) -> str:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def megapixel_request() -> bytes:
    photo = Image.open(REPO / "examples" / "photos" / "chelsea.jpg").convert("RGB").resize(MEGAPIXEL, Image.BICUBIC)
    mask = Image.open(REPO / "examples" / "masks" / "chelsea.png").convert("L").resize(MEGAPIXEL, Image.NEAREST)
    return json.dumps({"image": data_url(photo), "mask": data_url(mask)}).encode()


def timed(call) -> tuple[float, object]:
    start = time.perf_counter()
    result = call()
    return time.perf_counter() - start, result


def page_seconds(server: DemoServer, repeats: int) -> list[float]:
    return [timed(lambda: [fetch(server, "GET", path) for path in AT_START])[0] for _ in range(repeats)]


def browser_seconds(server: DemoServer, repeats: int) -> list[float]:
    """From navigation to the model list on screen, in headless Debian Chromium (the browser test's flags)."""
    from playwright.sync_api import sync_playwright

    seconds = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=shutil.which("chromium"), args=HEADLESS_CHROMIUM_ARGS)
        for _ in range(repeats):
            page = browser.new_page()
            start = time.perf_counter()
            page.goto(server.url)
            page.wait_for_selector("#models li")
            seconds.append(time.perf_counter() - start)
            page.close()
        browser.close()
    return seconds


def fill_seconds(server: DemoServer, body: bytes) -> tuple[float, float]:
    """(round trip, the fill alone as the server reports it) of one request, checked to succeed."""
    seconds, (status, headers, _) = timed(lambda: fetch(server, "POST", "/api/v1/inpaint", body))
    if status != 200:
        raise RuntimeError(f"the demo answered {status}")
    return seconds, float(headers["X-Fill-Seconds"])


def burst(server: DemoServer, body: bytes, requests: int, threads: int) -> dict[str, float]:
    """`requests` fills from `threads` threads, twice: latency and wall time of the second, and how far the
    process's resident memory grew over it (a leak grows it every burst)."""
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(lambda _: fill_seconds(server, body), range(requests)))
        before = resident_mb()
        wall, answers = timed(lambda: list(pool.map(lambda _: fill_seconds(server, body), range(requests))))
    latencies = [round_trip for round_trip, _ in answers]
    return {"requests": requests, "threads": threads, "wall s": wall, "median latency s": statistics.median(latencies),
            "max latency s": max(latencies), "resident memory growth MB": resident_mb() - before}


def summary(seconds: list[float]) -> str:
    return f"{statistics.median(seconds):.3f} (min {min(seconds):.3f}, max {max(seconds):.3f}, n={len(seconds)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", default=str(REPO / "weights" / "inpainter-freeform-roads-128.safetensors"))
    parser.add_argument("--browser", action="store_true", help="Also time the page in headless Chromium.")
    parser.add_argument("--repeats", type=int, default=10, help="Page loads and single fills timed.")
    parser.add_argument("--requests", type=int, default=40, help="Fills in each concurrent burst.")
    parser.add_argument("--threads", type=int, default=8, help="Threads sending a burst.")
    parser.add_argument("--out", default=str(REPO / "results" / "demo_timing.md"))
    args = parser.parse_args()
    model = ModelInpainter(Path(args.checkpoint), torch.device("cpu"))
    server = DemoServer(DemoModels({model.name: model}, offline_photos()), port=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        body = megapixel_request()
        fill_seconds(server, body)  # warm: the first fill builds the allocator's pools
        fills = [fill_seconds(server, body) for _ in range(args.repeats)]
        rows = {"page ready (its start fetches over HTTP), s": summary(page_seconds(server, args.repeats))}
        if args.browser:
            rows["page ready in headless Chromium (model list on screen), s"] = summary(
                browser_seconds(server, args.repeats))
        rows["1-Mpixel fill, round trip, s"] = summary([round_trip for round_trip, _ in fills])
        rows["1-Mpixel fill, the model's part (X-Fill-Seconds), s"] = summary([alone for _, alone in fills])
        burst_row = burst(server, body, args.requests, args.threads)
    finally:
        server.shutdown()
        server.server_close()
    command = " ".join(["python benchmarks/demo_timing.py", f"--checkpoint {Path(args.checkpoint).relative_to(REPO)}"
                        if Path(args.checkpoint).is_relative_to(REPO) else f"--checkpoint {args.checkpoint}",
                        *(["--browser"] if args.browser else []),
                        *([f"--repeats {args.repeats}"] if args.repeats != 10 else []),
                        *([f"--requests {args.requests} --threads {args.threads}"]
                          if (args.requests, args.threads) != (40, 8) else [])])
    figures = pd.DataFrame({"median (min, max, n)": rows}).rename_axis("what")
    bursts = pd.DataFrame([{k: round(v, 3) for k, v in burst_row.items()}])
    text = "\n".join([
        "# `ssl-ce demo`: how fast the page and its fills are", "",
        f"Made on {machine_line(environment(torch.device('cpu')))} by", "",
        f"    {command}", "",
        f"Model: `{model.name}`. The 1-Mpixel photo is chelsea resized to {MEGAPIXEL[0]}x{MEGAPIXEL[1]} with the "
        "hand-drawn stroke of `examples/masks/chelsea.png`; the round trip includes PNG coding both ways.", "",
        markdown_table(figures), "",
        "A burst of concurrent 1-Mpixel fills (after a first burst to warm up); every answer was a 200:", "",
        markdown_table(bursts.set_index("requests"), digits=3), ""])
    Path(args.out).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
