"""Photo face detector: recall and precision on hand-drawn boxes, and what it costs.

    python -m bench.detection [--quick]

Runs the selfie service's AnalyzePhoto job (``pipelines.analyze_photo``, in-process:
decode, detection copy, HOG, one encoding per face, display copy and thumbnail) on
``../shared/faces/detection/*.jpg`` and compares the faces it returns with
``boxes.xml`` (18 faces a person drew, many 37-45 px). A detection is a true positive
when it overlaps a drawn box, not already taken, with IoU >= 0.3 (greedy, best first).

The four photos are only 360-500 px, smaller than any camera writes. So each setting
also runs on "camera-sized" copies enlarged 4x (2000 px, faces 150-360 px, the same
share of the frame): there the detection copy is smaller than the photo and
``photo_detect_max_side`` decides how many pixels a face keeps. ms/photo is the whole
job (it includes one ~65 ms encoding per face found), best of the repeats.

Last, "you missed me here": the closer look (``pipelines.look_closer``: a 2000 px
copy in overlapping tiles at upsample 2) against the first pass, on the same photos
and on "far away" copies (each photo at its own size in a 3000 x 2250 frame, so its
37-45 px faces are ~20 px in the 1600 px copy the first pass sees), with the ratio of
their times in the same run.
"""

from __future__ import annotations

import argparse
import io
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from findme_selfie import pipelines
from findme_selfie.config import SelfieSettings
from PIL import Image

FACES = Path(__file__).resolve().parents[2] / "shared" / "faces"
MIN_IOU = 0.3
CAMERA_SCALE = 4

Rect = tuple[float, float, float, float]  # left, top, right, bottom


@dataclass(frozen=True)
class Photo:
    name: str
    data: bytes
    width: int
    truth: list[Rect]


@dataclass(frozen=True)
class Tally:
    true_positives: int
    false_positives: int
    missed: int

    @property
    def recall(self) -> float:
        total = self.true_positives + self.missed
        return self.true_positives / total if total else 1.0

    @property
    def precision(self) -> float:
        called = self.true_positives + self.false_positives
        return self.true_positives / called if called else 1.0

    def __add__(self, other: Tally) -> Tally:
        return Tally(
            self.true_positives + other.true_positives,
            self.false_positives + other.false_positives,
            self.missed + other.missed,
        )


FAR_FRAME = (3000, 2250)


def load_photos(faces_dir: Path, scale: int = 1, *, far: bool = False) -> list[Photo]:
    """The drawn photos, enlarged ``scale`` times or (``far``) set in a big frame."""
    folder = faces_dir / "detection"
    photos = []
    for entry in ET.parse(folder / "boxes.xml").getroot().iter("image"):
        truth: list[Rect] = []
        for box in entry.iter("box"):
            left, top = int(box.get("left", 0)), int(box.get("top", 0))
            width, height = int(box.get("width", 0)), int(box.get("height", 0))
            truth.append(
                (left * scale, top * scale, (left + width) * scale, (top + height) * scale)
            )
        name = str(entry.get("file"))
        data = (folder / name).read_bytes()
        image = Image.open(io.BytesIO(data))
        if scale != 1:
            # Done once, outside the timed job: LANCZOS is fine here, never in the service.
            big = image.convert("RGB").resize(
                (image.width * scale, image.height * scale), Image.Resampling.LANCZOS
            )
            out = io.BytesIO()
            big.save(out, "JPEG", quality=92)
            data = out.getvalue()
        width = image.width * scale
        if far:
            frame = Image.new("RGB", FAR_FRAME, (90, 90, 90))
            x, y = (FAR_FRAME[0] - image.width) // 2, (FAR_FRAME[1] - image.height) // 2
            frame.paste(image.convert("RGB"), (x, y))
            out = io.BytesIO()
            frame.save(out, "JPEG", quality=92)
            data, width = out.getvalue(), FAR_FRAME[0]
            truth = [(a + x, b + y, c + x, d + y) for a, b, c, d in truth]
        photos.append(Photo(name, data, width, truth))
    return photos


def iou(a: Rect, b: Rect) -> float:
    width = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    height = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = width * height
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def tally(truth: list[Rect], found: list[Rect]) -> Tally:
    pairs = sorted(
        ((iou(t, f), ti, fi) for ti, t in enumerate(truth) for fi, f in enumerate(found)),
        reverse=True,
    )
    matched_truth: set[int] = set()
    matched_found: set[int] = set()
    for overlap, ti, fi in pairs:
        if overlap < MIN_IOU:
            break
        if ti in matched_truth or fi in matched_found:
            continue
        matched_truth.add(ti)
        matched_found.add(fi)
    hits = len(matched_truth)
    return Tally(hits, len(found) - hits, len(truth) - hits)


def run_photo(
    photo: Photo, settings: SelfieSettings, repeats: int, closer: bool = False
) -> tuple[Tally, float]:
    """The tally and the best wall time of AnalyzePhoto's job (or LookCloser's) on
    one photo."""
    best = float("inf")
    job = pipelines.look_closer if closer else pipelines.analyze_photo
    for _ in range(repeats):
        started = time.perf_counter()
        result = job(photo.data, settings)
        best = min(best, time.perf_counter() - started)
    back = photo.width / result.display_width  # boxes come in display coordinates
    found = [
        (f.box.left * back, f.box.top * back, f.box.right * back, f.box.bottom * back)
        for f in result.faces
    ]
    return tally(photo.truth, found), best


def run_setting(
    photos: list[Photo],
    settings: SelfieSettings,
    repeats: int,
    per_image: bool,
    closer: bool = False,
) -> tuple[Tally, float]:
    total, seconds = Tally(0, 0, 0), 0.0
    for photo in photos:
        counts, took = run_photo(photo, settings, repeats, closer)
        total, seconds = total + counts, seconds + took
        if per_image:
            print(
                f"| {photo.name} | {len(photo.truth)} | {counts.true_positives} "
                f"| {counts.false_positives} | {counts.missed} | {took * 1000:.0f} |"
            )
    return total, seconds / len(photos)


SETTINGS = [
    # (photo_detect_max_side, photo_detect_upsample); the first is the service default.
    (1600, 1),
    (1600, 0),
    (1200, 1),
    (2000, 1),
    (2400, 0),
    (1600, 2),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer settings, one repeat")
    parser.add_argument("--faces", type=Path, default=FACES)
    args = parser.parse_args()
    repeats = 1 if args.quick else 2
    settings_list = SETTINGS[:3] if args.quick else SETTINGS
    default = SelfieSettings()
    native = load_photos(args.faces)
    camera = load_photos(args.faces, CAMERA_SCALE)

    print(
        f"service default: photo_detect_max_side={default.photo_detect_max_side}, "
        f"photo_detect_upsample={default.photo_detect_upsample}, IoU >= {MIN_IOU}"
    )
    print()
    print("| image | drawn faces | TP | FP | FN | ms |")
    print("|---|---|---|---|---|---|")
    total, per_photo = run_setting(native, default, repeats, per_image=True)
    print(
        f"| **all** | {sum(len(p.truth) for p in native)} | {total.true_positives} "
        f"| {total.false_positives} | {total.missed} | {per_photo * 1000:.0f}/photo |"
    )
    print(f"recall {total.recall:.3f}, precision {total.precision:.3f}")
    print()
    print(
        "| detect max side | upsample | recall (native) | precision (native) | ms/photo "
        f"(native) | recall ({CAMERA_SCALE}x) | precision ({CAMERA_SCALE}x) "
        f"| ms/photo ({CAMERA_SCALE}x) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for max_side, upsample in settings_list:
        settings = SelfieSettings(photo_detect_max_side=max_side, photo_detect_upsample=upsample)
        small, small_ms = run_setting(native, settings, repeats, per_image=False)
        big, big_ms = run_setting(camera, settings, repeats, per_image=False)
        mark = " (default)" if (max_side, upsample) == SETTINGS[0] else ""
        print(
            f"| {max_side}{mark} | {upsample} | {small.recall:.3f} | {small.precision:.3f} "
            f"| {small_ms * 1000:.0f} | {big.recall:.3f} | {big.precision:.3f} "
            f"| {big_ms * 1000:.0f} |"
        )
    print()
    print(
        f"You missed me here: closer look ({default.closer_look_max_side} px, tiles of "
        f"{default.closer_look_tile_side} px, upsample {default.closer_look_upsample}) "
        "vs the first pass"
    )
    print()
    print(
        "| photos | first pass recall / precision | ms/photo | closer look recall / precision "
        "| ms/photo | time ratio |"
    )
    print("|---|---|---|---|---|---|")
    far = load_photos(args.faces, far=True)
    for label, photos in (("native", native), (f"{CAMERA_SCALE}x", camera), ("far away", far)):
        first, first_ms = run_setting(photos, default, repeats, per_image=False)
        look, look_ms = run_setting(photos, default, repeats, per_image=False, closer=True)
        print(
            f"| {label} | {first.recall:.3f} / {first.precision:.3f} | {first_ms * 1000:.0f} "
            f"| {look.recall:.3f} / {look.precision:.3f} | {look_ms * 1000:.0f} "
            f"| {look_ms / first_ms:.1f} |"
        )


if __name__ == "__main__":
    main()
