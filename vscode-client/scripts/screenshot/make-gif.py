"""Turns shoot.mjs's frames into images/demo.gif (one shared palette, no dithering).

Usage: python make-gif.py FRAMES_DIR OUTPUT.gif   (needs Pillow)
"""

import sys
from pathlib import Path

from PIL import Image

FRAMES = [("02-problems.png", 1800), ("03-hover.png", 3200), ("04-quickfix.png", 3200), ("05-fixed.png", 3500)]


def main() -> None:
    src, out = Path(sys.argv[1]), Path(sys.argv[2])
    imgs = [Image.open(src / name).convert("RGB") for name, _ in FRAMES]
    sheet = Image.new("RGB", (imgs[0].width, imgs[0].height * len(imgs)))
    for i, im in enumerate(imgs):
        sheet.paste(im, (0, i * im.height))
    palette = sheet.quantize(colors=128, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    frames = [im.quantize(palette=palette, dither=Image.Dither.NONE) for im in imgs]
    frames[0].save(out, save_all=True, append_images=frames[1:], duration=[d for _, d in FRAMES], loop=0, optimize=True)
    print(f"{out}: {out.stat().st_size} bytes")


if __name__ == "__main__":
    main()
