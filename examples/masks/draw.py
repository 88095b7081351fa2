"""Re-makes the hand-drawn masks of examples/photos (white = hole): brush strokes over things a person would
remove (the flag, the cat's eye, the spoon, the launch tower), placed by eye, not by ssl-ce's mask generator;
and in examples/masks-large/ one bigger hole per photo (7-14 %: the shuttle model, the cat's eye, the
spoon and the cup's edge, a launch tower), where a fill has to invent structure rather than continue an edge.

    python examples/masks/draw.py
"""

from pathlib import Path

from PIL import Image, ImageDraw

HERE = Path(__file__).resolve().parent
PHOTOS = HERE.parent / "photos"
LARGE = HERE.parent / "masks-large"
STROKES = {  # photo: [(brush width in px, [(x, y), ...]), ...] at the photo's own size
    "astronaut": [(34, [(40, 60), (30, 140), (45, 220), (35, 300)]), (22, [(430, 40), (440, 150), (425, 260)])],
    "chelsea": [(34, [(294, 136), (320, 130), (342, 146), (324, 164), (300, 156)])],
    "coffee": [(22, [(412, 72), (395, 160), (372, 240)]), (46, [(368, 265), (362, 292)])],
    "rocket": [(40, [(75, 120), (80, 230), (70, 340)]), (14, [(300, 250), (360, 240), (420, 255)])],
}


BIG_HOLES = {  # photo: (shape, (left, top, right, bottom)) at the photo's own size
    "astronaut": ("box", (345, 0, 470, 280)),
    "chelsea": ("ellipse", (105, 55, 245, 185)),
    "coffee": ("box", (310, 60, 430, 330)),
    "rocket": ("box", (425, 110, 490, 420)),
}


def draw_big(name: str) -> Image.Image:
    mask = Image.new("L", Image.open(PHOTOS / f"{name}.jpg").size, 0)
    shape, box = BIG_HOLES[name]
    (ImageDraw.Draw(mask).ellipse if shape == "ellipse" else ImageDraw.Draw(mask).rectangle)(box, fill=255)
    return mask


def draw(name: str) -> Image.Image:
    size = Image.open(PHOTOS / f"{name}.jpg").size
    mask = Image.new("L", size, 0)
    pen = ImageDraw.Draw(mask)
    for width, points in STROKES[name]:
        pen.line(points, fill=255, width=width, joint="curve")
        for x, y in (points[0], points[-1]):  # round brush ends
            pen.ellipse((x - width / 2, y - width / 2, x + width / 2, y + width / 2), fill=255)
    return mask


if __name__ == "__main__":
    LARGE.mkdir(exist_ok=True)
    for name in STROKES:
        draw(name).save(HERE / f"{name}.png")
        draw_big(name).save(LARGE / f"{name}.png")
        print(f"wrote {HERE / name}.png and {LARGE / name}.png")
