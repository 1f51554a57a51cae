"""Calibrate NEAR_DUPLICATE_DISTANCE on the shared real photos (a script, not a test).

Every real photo that the pipeline accepts is edited the ways a recycled photo gets disguised
(JPEG recompression at quality 50 and 70, resizing to 50 % and 25 %, cropping 3 % and 6 % off
the edges, a small brightness change, conversion to PNG); each edited copy goes through
`process_photo` like an upload and its perceptual hash is compared with the original's. Distinct
pairs are all pairs of different real photos, except the 16 orientation shots: those are the same
scene (one photo stored with EXIF orientation 1-8, landscape and portrait), so they are counted as
one and left out of the distinct pairs.

Run:  .venv/bin/python bench/calibrate_phash.py  [--heic]
Prints the catch rate per edit kind at each candidate threshold, the false-match rate among
distinct pairs, the closest distinct pairs, and the chosen threshold: the largest one that
stays MARGIN bits below the closest distinct pair.
"""

import io
import itertools
import sys
from pathlib import Path

from PIL import Image, ImageEnhance, ImageOps

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from qcloop.inspections import imaging

PHOTOS = Path(__file__).resolve().parents[2] / "shared" / "photos"


def _save(image: Image.Image, fmt: str = "JPEG", **options) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def _crop(image: Image.Image, fraction: float) -> Image.Image:
    width, height = image.size
    dx, dy = round(width * fraction), round(height * fraction)
    return image.crop((dx, dy, width - dx, height - dy))


def _resize(image: Image.Image, factor: float) -> Image.Image:
    width, height = image.size
    size = (max(8, round(width * factor)), max(8, round(height * factor)))
    return image.resize(size, Image.Resampling.LANCZOS)


EDITS = {
    "jpeg q50": lambda im: _save(im, quality=50),
    "jpeg q70": lambda im: _save(im, quality=70),
    "resize 50%": lambda im: _save(_resize(im, 0.5), quality=90),
    "resize 25%": lambda im: _save(_resize(im, 0.25), quality=90),
    "crop 3%": lambda im: _save(_crop(im, 0.03), quality=90),
    "crop 6%": lambda im: _save(_crop(im, 0.06), quality=90),
    "brightness +10%": lambda im: _save(ImageEnhance.Brightness(im).enhance(1.1), quality=90),
    "png": lambda im: _save(im, "PNG"),
}


def edit(data: bytes, kind: str) -> bytes:
    """An edited copy of a photo, as the editor would save it: orientation baked in."""
    image = ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB")
    return EDITS[kind](image)


def real_photos(include_heic: bool = False) -> dict[str, bytes]:
    patterns = ["jpg/**/*.jp*g"] + (["heic/**/*.heic", "heic/**/*.heif"] if include_heic else [])
    found = {}
    for pattern in patterns:
        for path in sorted(PHOTOS.glob(pattern, case_sensitive=False)):
            data = path.read_bytes()
            try:
                imaging.process_photo(data)
            except imaging.PhotoError:
                continue  # corrupted.jpg
            found[str(path.relative_to(PHOTOS))] = data
    return found


def same_scene(a: str, b: str) -> bool:
    # The orientation shots are one scene stored 16 ways: never a "distinct" pair.
    return "orientation/" in a and "orientation/" in b


def measure(photos: dict[str, bytes]):
    hashes = {name: imaging.process_photo(data).phash for name, data in photos.items()}
    edited: dict[str, list[int]] = {kind: [] for kind in EDITS}
    for name, data in photos.items():
        for kind in EDITS:
            copy = imaging.process_photo(edit(data, kind)).phash
            edited[kind].append(imaging.hamming(hashes[name], copy))
    distinct = {
        (a, b): imaging.hamming(hashes[a], hashes[b])
        for a, b in itertools.combinations(sorted(photos), 2)
        if not same_scene(a, b)
    }
    return edited, distinct


# Bits kept between the threshold and the closest distinct pair: 83 photos make only ~3,300
# pairs, while an agency compares each new photo with tens of thousands of stored ones, many
# of similar carton stacks; the threshold must not sit right under the closest pair seen here.
MARGIN = 4


def choose(edited: dict[str, list[int]], distinct: dict) -> int:
    """The largest threshold at least MARGIN bits below the closest distinct pair."""
    return min(distinct.values()) - MARGIN


def main() -> None:
    if not PHOTOS.is_dir():
        sys.exit(f"the shared photos are not at {PHOTOS}")
    photos = real_photos(include_heic="--heic" in sys.argv)
    edited, distinct = measure(photos)
    chosen = choose(edited, distinct)
    print(f"{len(photos)} real photos, {len(distinct)} distinct pairs")
    print("(the 16 orientation shots are one scene: their pairs are not counted as distinct)\n")
    thresholds = sorted({4, 6, 8, 10, 12, 14, 16, chosen})
    print(f"{'edit':<18}" + "".join(f"  <={t:<3}" for t in thresholds) + "   max")
    for kind, distances in edited.items():
        rates = [sum(d <= t for d in distances) / len(distances) for t in thresholds]
        print(f"{kind:<18}" + "".join(f"  {r:6.1%}" for r in rates) + f"   {max(distances)}")
    all_edits = [d for distances in edited.values() for d in distances]
    rates = [sum(d <= t for d in all_edits) / len(all_edits) for t in thresholds]
    print(f"{'all edits':<18}" + "".join(f"  {r:6.1%}" for r in rates))
    false = [sum(d <= t for d in distinct.values()) / len(distinct) for t in thresholds]
    print(f"{'distinct (false)':<18}" + "".join(f"  {r:6.2%}" for r in false))
    print("\nclosest distinct pairs:")
    for (a, b), distance in sorted(distinct.items(), key=lambda item: item[1])[:6]:
        print(f"  {distance:2d}  {a}  ~  {b}")
    caught = sum(d <= chosen for d in all_edits) / len(all_edits)
    print(
        f"\nchosen threshold: {chosen} (edited copies caught: {caught:.1%}; "
        f"distinct pairs matched: {sum(d <= chosen for d in distinct.values())})"
    )
    print(f"NEAR_DUPLICATE_DISTANCE in imaging.py: {imaging.NEAR_DUPLICATE_DISTANCE}")


if __name__ == "__main__":
    main()
