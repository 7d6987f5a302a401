"""Rasterize the app icon (resources/icons/event-console.svg) into every format the platforms want.

Why here and not committed: the SVG is the one source; PNG sizes for the freedesktop hicolor
theme, a Windows .ico and a macOS .icns are build products. Qt (already a runtime dependency)
draws the SVG, and the two container formats are written by the small writers below, because
both accept PNG payloads: no Pillow, no iconutil, no ImageMagick.

Run as a script (`python packaging/icons.py OUT_DIR`) it writes:
  OUT_DIR/hicolor/<n>x<n>/apps/event-console.png   for n in PNG_SIZES
  OUT_DIR/hicolor/scalable/apps/event-console.svg
  OUT_DIR/event-console.ico, OUT_DIR/event-console.icns
"""

from __future__ import annotations

import os
import shutil
import struct
import sys
from pathlib import Path

ICON_NAME = "event-console"
REPO = Path(__file__).resolve().parent.parent
SVG_SOURCE = REPO / "resources" / "icons" / f"{ICON_NAME}.svg"
PNG_SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
# ICNS element types that carry PNG data, with their pixel size (Apple's iconutil set plus the
# 16/32 "icp" types so old Finder versions have small sizes too).
ICNS_TYPES = (
    (b"icp4", 16), (b"icp5", 32), (b"ic11", 32), (b"icp6", 64), (b"ic12", 64),
    (b"ic07", 128), (b"ic13", 256), (b"ic08", 256), (b"ic14", 512), (b"ic09", 512),
    (b"ic10", 1024),
)


def ico_bytes(pngs: dict[int, bytes]) -> bytes:
    """A Windows .ico whose images are PNG streams (supported since Windows Vista)."""
    sizes = sorted(pngs)
    header = struct.pack("<HHH", 0, 1, len(sizes))
    offset = len(header) + 16 * len(sizes)
    entries, blobs = [], []
    for size in sizes:
        data = pngs[size]
        dim = 0 if size >= 256 else size  # 0 means 256 in the one-byte size fields
        entries.append(struct.pack("<BBBBHHII", dim, dim, 0, 0, 1, 32, len(data), offset))
        blobs.append(data)
        offset += len(data)
    return header + b"".join(entries) + b"".join(blobs)


def icns_bytes(pngs: dict[int, bytes]) -> bytes:
    """A macOS .icns made of PNG elements: 'icns', total length, then (type, length, data)*."""
    body = b"".join(
        kind + struct.pack(">I", 8 + len(pngs[size])) + pngs[size] for kind, size in ICNS_TYPES
    )
    return b"icns" + struct.pack(">I", 8 + len(body)) + body


def render_pngs(svg: Path, sizes: set[int]) -> dict[int, bytes]:
    """PNG bytes of the SVG at each size, drawn by Qt with antialiasing on a transparent canvas."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRectF
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    app = QGuiApplication.instance() or QGuiApplication([sys.argv[0]])
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"icons: {svg} is not a valid SVG for Qt")
    out: dict[int, bytes] = {}
    for size in sorted(sizes):
        image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(0)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        renderer.render(painter, QRectF(0, 0, size, size))
        painter.end()
        data = QByteArray()
        buffer = QBuffer(data)
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        image.convertToFormat(QImage.Format.Format_ARGB32).save(buffer, "PNG")
        buffer.close()
        out[size] = bytes(data.data())
    del app
    return out


def icon_files(out_dir: Path) -> dict[str, Path]:
    """Where generate() puts things (the spec and build.py read these paths)."""
    return {
        "ico": out_dir / f"{ICON_NAME}.ico",
        "icns": out_dir / f"{ICON_NAME}.icns",
        "hicolor": out_dir / "hicolor",
    }


def generate(out_dir: Path, svg: Path = SVG_SOURCE) -> dict[str, Path]:
    """Write the hicolor tree, the .ico and the .icns into out_dir; return icon_files(out_dir)."""
    files = icon_files(out_dir)
    pngs = render_pngs(svg, set(PNG_SIZES) | set(ICO_SIZES) | {s for _, s in ICNS_TYPES})
    for size in PNG_SIZES:
        target = files["hicolor"] / f"{size}x{size}" / "apps" / f"{ICON_NAME}.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(pngs[size])
    scalable = files["hicolor"] / "scalable" / "apps" / f"{ICON_NAME}.svg"
    scalable.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(svg, scalable)
    files["ico"].write_bytes(ico_bytes({s: pngs[s] for s in ICO_SIZES}))
    files["icns"].write_bytes(icns_bytes(pngs))
    return files


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python packaging/icons.py OUT_DIR", file=sys.stderr)
        return 2
    files = generate(Path(argv[0]))
    print(" ".join(str(p) for p in files.values()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
