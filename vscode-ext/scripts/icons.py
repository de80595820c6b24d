"""Draws the extension's icons: images/icon.svg and images/icon.png (128x128, the
Marketplace icon, which must be a PNG) from one list of shapes, and images/dlm-file.svg
(the icon of .dlm files). A page with four lines: prose (grey), a question (teal), a
chosen (green) and a rejected (red) answer, the three section types of a document.

    uv run --no-project --with pillow python scripts/icons.py
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

IMAGES = Path(__file__).resolve().parent.parent / "images"
SIZE = 128
SCALE = 8  # drawn at 8x, then scaled down: anti-aliased edges

# (kind, geometry, colour) in a 128x128 box.
SHAPES: list[tuple[str, tuple[float, ...], str]] = [
    ("round", (4, 4, 124, 124, 26), "#22304a"),
    ("polygon", (30, 16, 80, 16, 100, 36, 100, 112, 30, 112), "#f4f6fa"),
    ("polygon", (80, 16, 80, 36, 100, 36), "#c3ccda"),
    ("round", (40, 46, 88, 54, 4), "#8c96a8"),
    ("round", (40, 62, 80, 70, 4), "#159a92"),
    ("round", (40, 78, 90, 86, 4), "#2ea043"),
    ("round", (40, 94, 70, 102, 4), "#e5534b"),
]

FILE_ICON = """<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 16 16">
  <path d="M3.5 1.5h6l3 3v10h-9z" fill="none" stroke="#8c96a8" stroke-linejoin="round"/>
  <rect x="5" y="5" width="5.5" height="1.6" rx=".8" fill="#8c96a8"/>
  <rect x="5" y="8" width="4.5" height="1.6" rx=".8" fill="#159a92"/>
  <rect x="5" y="11" width="3" height="1.6" rx=".8" fill="#2ea043"/>
  <rect x="8.5" y="11" width="2" height="1.6" rx=".8" fill="#e5534b"/>
</svg>
"""


def svg() -> str:
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{SIZE}" height="{SIZE}" viewBox="0 0 {SIZE} {SIZE}">']
    for kind, geometry, colour in SHAPES:
        if kind == "round":
            x0, y0, x1, y1, radius = geometry
            parts.append(f'  <rect x="{x0:g}" y="{y0:g}" width="{x1 - x0:g}" height="{y1 - y0:g}" rx="{radius:g}" fill="{colour}"/>')
        else:
            points = " ".join(f"{geometry[i]:g},{geometry[i + 1]:g}" for i in range(0, len(geometry), 2))
            parts.append(f'  <polygon points="{points}" fill="{colour}"/>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def png() -> Image.Image:
    big = Image.new("RGBA", (SIZE * SCALE, SIZE * SCALE), (0, 0, 0, 0))
    draw = ImageDraw.Draw(big)
    for kind, geometry, colour in SHAPES:
        scaled = [value * SCALE for value in geometry]
        if kind == "round":
            x0, y0, x1, y1, radius = scaled
            draw.rounded_rectangle((x0, y0, x1 - 1, y1 - 1), radius=radius, fill=colour)
        else:
            draw.polygon(scaled, fill=colour)
    return big.resize((SIZE, SIZE), Image.Resampling.LANCZOS)


def main() -> None:
    IMAGES.mkdir(exist_ok=True)
    (IMAGES / "icon.svg").write_text(svg(), encoding="utf-8")
    (IMAGES / "dlm-file.svg").write_text(FILE_ICON, encoding="utf-8")
    png().save(IMAGES / "icon.png", optimize=True)


if __name__ == "__main__":
    main()
