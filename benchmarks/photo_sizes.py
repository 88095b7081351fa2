"""Does a model's score depend on the photo's size? The road photos of one split, resized (Lanczos) to each
size, filled through `ssl-ce eval inpainting` (the path of `ssl-ce inpaint` and the API) by the published
128-px road model and the published 32-px file, centre holes, one pass (issue 41's first target).

    python benchmarks/photo_sizes.py --data-root ../shared/data/roads [--split val] [--sizes 160 227 250]

Writes results/photo_sizes_<split>.{csv,md}. Score test only once, for the reported numbers.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import pandas as pd
from PIL import Image

from ssl_ce.data.folder import split_files
from ssl_ce.evaluators.inpainting import INPAINTING
from ssl_ce.evaluators.test_looks import record_test_look
from ssl_ce.results import markdown_table
from ssl_ce.study import command_line

REPO = Path(__file__).resolve().parent.parent
MODELS = [REPO / "weights" / "inpainter-center-roads-128.safetensors",
          REPO / "weights" / "inpainter-center-cifar10-small32.safetensors"]


def resized_copies(files: list[Path], size: int, out: Path) -> Path:
    """The split's photos at `size` x `size`, as lossless PNG under class-prefixed names."""
    out.mkdir(parents=True)
    for f in files:
        image = Image.open(f).convert("RGB")
        if image.size != (size, size):
            image = image.resize((size, size), Image.LANCZOS)
        image.save(out / f"{f.parent.name}_{f.stem}.png")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", required=True, help="The road photos (train/ and test/).")
    parser.add_argument("--split", default="val", choices=["val", "test"])
    parser.add_argument("--sizes", type=int, nargs="+", default=[160, 227, 250])
    parser.add_argument("--results", default=str(REPO / "results"))
    args = parser.parse_args()
    _, files = split_files(Path(args.data_root), args.split)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            folder = resized_copies(files, size, Path(tmp) / str(size))
            options = {"images": str(folder), "also": tuple(map(str, MODELS[1:])), "classical": False}
            scored = INPAINTING(MODELS[0], results_dir=tmp, progress=False, **options)
            if args.split == "test":  # a folder without splits: the evaluator cannot tell it is the test split
                record_test_look("inpainting", MODELS[0], {**options, "split": "test", "photo_px": size}, scored,
                                 source="benchmarks/photo_sizes.py")
            for row in scored:
                rows.append({"photo_px": size, "inpainter": Path(row["checkpoint"]).name, "images": row["images"],
                             "psnr_db": row["psnr_db"], "ssim": row["ssim"], "note": row["note"],
                             "git_commit": row["git_commit"]})
    table = pd.DataFrame(rows).set_index(["photo_px", "inpainter"])
    out = Path(args.results) / f"photo_sizes_{args.split}"
    table.to_csv(out.with_suffix(".csv"))
    command = command_line("benchmarks/photo_sizes.py", parser, args, always=("data_root", "split", "sizes"),
                           leave_out=("results",))
    out.with_suffix(".md").write_text(f"# A model's score at other photo sizes ({args.split})\n\nMade by\n\n"
                                      f"    {command}\n\n{markdown_table(table)}\n")
    print(markdown_table(table))


if __name__ == "__main__":
    main()
