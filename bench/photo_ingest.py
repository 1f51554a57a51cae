"""Photo ingest throughput: our pipeline against a plain full-decode one (a script, not a test).

Makes 300 "phone photos" of 12 MP (4000 x 3000) in a temp dir from the shared real photos
(upscaled, tiled, flipped and tinted so no two are alike, written with EXIF: camera, capture
time, GPS, and orientation 6 on a few), about 10 % of them HEIC, then times in the same run and
the same process pool of 2 (this machine's cores):

  (a) imaging.process_photo: DCT-scaled JPEG decode (Image.draft), one HEIC decode, resize,
      thumbnail from the rendition, pHash, EXIF facts;
  (b) a plain pipeline with the same outputs: Image.open + full-resolution load +
      exif_transpose + resize to 1600 + thumbnail + save both + sha256 + the same pHash.

Prints photos/second for both, the ratio, and the core count.
Run:  .venv/bin/python bench/photo_ingest.py  [--photos 300]   (about 2-3 minutes)
"""

import hashlib
import io
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from PIL import Image, ImageEnhance, ImageOps

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from qcloop.inspections import imaging

PHOTOS = Path(__file__).resolve().parents[2] / "shared" / "photos"
SIZE = (4000, 3000)
WORKERS = 2
SOURCES = [
    "jpg/gps/DSCN0010.jpg",
    "jpg/gps/DSCN0029.jpg",
    "jpg/gps/DSCN0040.jpg",
    "jpg/mobile/jolla.jpg",
    "jpg/mobile/HMD_Nokia_8.3_5G.jpg",
    "jpg/tests/42_IndexError.jpg",
    "jpg/tests/33-type_error.jpg",
    "jpg/tests/22-canon_tags.jpg",
    "jpg/exif-org/nikon-e950.jpg",
    "jpg/exif-org/fujifilm-dx10.jpg",
    "jpg/Reconyx_HC500_Hyperfire.jpg",
    "jpg/tests/87_OSError.jpg",
]


def make_photo(args: tuple[int, str] | tuple[int, str, bool]) -> str:
    """One 12 MP phone photo with EXIF; every tenth is HEIC (unless `heic` is false)."""
    index, folder, *heic = args
    base = ImageOps.exif_transpose(Image.open(PHOTOS / SOURCES[index % len(SOURCES)]))
    base = base.convert("RGB")
    if index % 3 == 1:  # tiled: four different crops of the source
        w, h = base.size
        tile = Image.new("RGB", (w, h))
        for k, (x, y) in enumerate([(0, 0), (w // 2, 0), (0, h // 2), (w // 2, h // 2)]):
            part = base.crop((x, y, x + w // 2, y + h // 2))
            tile.paste(part.transpose(Image.Transpose.FLIP_LEFT_RIGHT) if k % 2 else part, (x, y))
        base = tile
    if index % 2:
        base = base.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    base = ImageEnhance.Brightness(base).enhance(0.85 + (index % 7) * 0.05)
    # Crop a varying window so each photo differs, then upscale to 12 MP.
    w, h = base.size
    dx, dy = (index * 7) % max(1, w // 10), (index * 5) % max(1, h // 10)
    photo = base.crop((dx, dy, w - w // 10 + dx, h - h // 10 + dy)).resize(
        SIZE, Image.Resampling.BICUBIC
    )
    exif = Image.Exif()
    exif[0x010F], exif[0x0110], exif[0x0131] = "BenchPhone", f"Model {index % 5}", "1.0"
    exif[0x0112] = 6 if index % 11 == 0 else 1
    exif.get_ifd(0x8769)[0x9003] = f"2026:03:18 {8 + index % 10:02d}:{index % 60:02d}:00"
    exif.get_ifd(0x8769)[0x9011] = "+08:00"
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (22.0, 31.0, 3.0 + index % 50)
    gps[3], gps[4] = "E", (113.0, 23.0, 33.0)
    if index % 10 == 5 and (not heic or heic[0]):
        path = Path(folder) / f"IMG_{index:04d}.HEIC"
        # x265's fastest preset: encoding 12 MP HEIC is otherwise ~20 s a photo.
        fast = {"preset": "ultrafast"}
        photo.save(path, "HEIF", quality=80, exif=exif.tobytes(), enc_params=fast)
    else:
        path = Path(folder) / f"IMG_{index:04d}.jpg"
        photo.save(path, "JPEG", quality=90, exif=exif)
    return str(path)


def ours(path: str) -> float:
    start = time.perf_counter()
    imaging.process_photo(Path(path).read_bytes())
    return time.perf_counter() - start


def plain(path: str) -> float:
    """The straightforward way: decode everything at full resolution."""
    start = time.perf_counter()
    data = Path(path).read_bytes()
    image = Image.open(io.BytesIO(data))
    image.load()
    image = ImageOps.exif_transpose(image).convert("RGB")
    rendition = image.resize(imaging._fit(image.size, 1600), Image.Resampling.LANCZOS)
    thumbnail = rendition.resize(imaging._fit(rendition.size, 320), Image.Resampling.LANCZOS)
    outputs = []
    for im in (rendition, thumbnail):
        out = io.BytesIO()
        im.save(out, "JPEG", quality=imaging.JPEG_QUALITY)
        outputs.append(out.getvalue())
    hashlib.sha256(data).hexdigest()
    imaging.phash(thumbnail)
    return time.perf_counter() - start


def timed(pool: ProcessPoolExecutor, work, paths: list[str]) -> tuple[float, list[float]]:
    """Wall time for all, and each photo's time in its worker."""
    start = time.perf_counter()
    each = list(pool.map(work, paths, chunksize=2))
    return time.perf_counter() - start, each


def per_format(paths: list[str], each: list[float]) -> str:
    parts = []
    for label, suffix in (("JPEG", ".jpg"), ("HEIC", ".HEIC")):
        times = [t for p, t in zip(paths, each, strict=True) if p.endswith(suffix)]
        if times:
            parts.append(f"{label} {1000 * sum(times) / len(times):.0f} ms")
    return ", ".join(parts)


def main() -> None:
    if not PHOTOS.is_dir():
        sys.exit(f"the shared photos are not at {PHOTOS}")
    count = int(sys.argv[sys.argv.index("--photos") + 1]) if "--photos" in sys.argv else 300
    print(f"cores: {os.cpu_count()}, pool: {WORKERS} processes, photos: {count} of 12 MP")
    with (
        tempfile.TemporaryDirectory(prefix="qcloop-bench-") as folder,
        ProcessPoolExecutor(WORKERS) as pool,
    ):
        start = time.perf_counter()
        paths = list(pool.map(make_photo, [(i, folder) for i in range(count)], chunksize=2))
        heic = sum(p.endswith(".HEIC") for p in paths)
        size = sum(os.path.getsize(p) for p in paths) / 1e6
        made = time.perf_counter() - start
        print(f"made {count} photos ({heic} HEIC, {size:,.0f} MB) in {made:.0f} s")
        pool.submit(ours, paths[0]).result()  # warm both workers' imports
        pool.submit(plain, paths[0]).result()
        a, a_each = timed(pool, ours, paths)
        b, b_each = timed(pool, plain, paths)
    print(f"(a) process_photo:      {count / a:6.1f} photos/s  ({a:5.1f} s)")
    print(f"(b) plain full decode:  {count / b:6.1f} photos/s  ({b:5.1f} s)")
    print(f"ratio (a) over (b): {b / a:.2f}x")
    print(f"mean time per photo in a worker: (a) {per_format(paths, a_each)}")
    print(f"                                 (b) {per_format(paths, b_each)}")


if __name__ == "__main__":
    main()
