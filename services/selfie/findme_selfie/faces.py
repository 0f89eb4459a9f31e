"""Face detection (dlib HOG) and 128-d encodings (face_recognition).

Importing this module loads dlib's models, so only worker processes import it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import dlib
import face_recognition
import numpy as np
from face_recognition import api as fr_api
from findme_common.refusals import Reason, Refusal
from PIL import ImageFile

# face_recognition turns this on when imported; a truncated upload must be refused,
# not silently padded with grey and accepted.
ImageFile.LOAD_TRUNCATED_IMAGES = False

# The same HOG detector face_recognition.face_locations uses; called directly because
# face_locations clips boxes to the frame, and the unclipped box tells how much of a
# face lies outside it.
_detector = fr_api.face_detector


@dataclass(frozen=True)
class Face:
    """A detected face in the coordinates of the image it was found in."""

    top: int
    right: int
    bottom: int
    left: int
    # Share of the detector's box that lies outside the frame (0 for a whole face).
    outside: float
    # The detector's confidence (its SVM margin; it reports faces from 0 up).
    score: float = 1.0

    @property
    def width(self) -> int:
        return self.right - self.left

    @property
    def css(self) -> tuple[int, int, int, int]:
        return (self.top, self.right, self.bottom, self.left)

    def scaled(self, factor_x: float, factor_y: float) -> Face:
        return Face(
            top=round(self.top * factor_y),
            right=round(self.right * factor_x),
            bottom=round(self.bottom * factor_y),
            left=round(self.left * factor_x),
            outside=self.outside,
            score=self.score,
        )


def _to_face(rect: dlib.rectangle, score: float, width: int, height: int) -> Face:
    top, right = max(rect.top(), 0), min(rect.right(), width)
    bottom, left = min(rect.bottom(), height), max(rect.left(), 0)
    area = max(1, rect.width() * rect.height())
    inside = max(0, right - left) * max(0, bottom - top)
    return Face(
        top, right, bottom, left, outside=round(1.0 - inside / area, 3), score=round(score, 3)
    )


def detect(pixels: np.ndarray, upsample: int) -> list[Face]:
    """Every face HOG finds at its usual threshold (0), with its score."""
    height, width = pixels.shape[:2]
    rects, scores, _kinds = _detector.run(pixels, upsample, 0.0)
    return [_to_face(rect, score, width, height) for rect, score in zip(rects, scores, strict=True)]


def overlap(a: Face, b: Face) -> float:
    """Intersection over union of two boxes."""
    width = min(a.right, b.right) - max(a.left, b.left)
    height = min(a.bottom, b.bottom) - max(a.top, b.top)
    inter = max(0, width) * max(0, height)
    union = a.width * (a.bottom - a.top) + b.width * (b.bottom - b.top) - inter
    return inter / union if union > 0 else 0.0


def tile_spans(length: int, tile: int, overlap_px: int) -> list[tuple[int, int]]:
    """(start, size) of the fewest tiles of at most ``tile`` px that cover ``length``
    px with neighbours overlapping by ``overlap_px``, all of one size."""
    if length <= tile:
        return [(0, length)]
    count = math.ceil((length - overlap_px) / (tile - overlap_px))
    size = math.ceil((length + (count - 1) * overlap_px) / count)
    step = (length - size) / (count - 1)
    return [(round(i * step), size) for i in range(count)]


def detect_tiled(pixels: np.ndarray, *, tile: int, overlap_px: int, upsample: int) -> list[Face]:
    """Every face in overlapping tiles (memory bounded by the tile, not the photo); a
    face found in two tiles is kept once, with its better score."""
    height, width = pixels.shape[:2]
    found: list[Face] = []
    for top, rows in tile_spans(height, tile, overlap_px):
        for left, columns in tile_spans(width, tile, overlap_px):
            window = np.ascontiguousarray(pixels[top : top + rows, left : left + columns])
            for face in detect(window, upsample):
                found.append(
                    Face(
                        top=face.top + top,
                        right=face.right + left,
                        bottom=face.bottom + top,
                        left=face.left + left,
                        outside=face.outside,
                        score=face.score,
                    )
                )
    kept: list[Face] = []
    for face in sorted(found, key=lambda f: -f.score):
        if all(overlap(face, other) < 0.3 for other in kept):
            kept.append(face)
    return kept


def detect_selfie_faces(pixels: np.ndarray) -> tuple[list[Face], bool]:
    """Faces at upsample 0, retrying at 1 only when none was found (4x the cost)."""
    faces = detect(pixels, 0)
    if faces:
        return faces, False
    return detect(pixels, 1), True


def choose_selfie_face(
    faces: list[Face],
    *,
    min_face_px: int,
    background_ratio: float,
    max_outside: float,
    min_other_score: float,
) -> Face:
    """The one subject of a selfie, or the reason there is none.

    Another face makes it a group photo only when it is big enough to be a second
    subject (bystanders far smaller are ignored) and the detector is sure enough of
    it: a badge or a printed pattern can pass HOG's threshold by a hair.
    """
    if not faces:
        raise Refusal(Reason.NO_FACE, "no face was found in the image")
    subject = max(faces, key=lambda face: face.width)
    others = [
        f
        for f in faces
        if f is not subject
        and f.width >= background_ratio * subject.width
        and f.score >= min_other_score
    ]
    if others:
        raise Refusal(
            Reason.MULTIPLE_FACES,
            f"{len(others) + 1} faces were found; the selfie needs exactly one",
        )
    if subject.outside > max_outside:
        raise Refusal(Reason.FACE_CUT_OFF, "the face is cut off by the edge of the image")
    if subject.width < min_face_px:
        raise Refusal(
            Reason.FACE_TOO_SMALL,
            f"the face is {subject.width} px wide; at least {min_face_px} needed",
        )
    return subject


def encode(pixels: np.ndarray, faces: list[Face]) -> list[list[float]]:
    """One 128-d encoding per face, in the order given."""
    if not faces:
        return []
    encodings = face_recognition.face_encodings(
        pixels, known_face_locations=[face.css for face in faces]
    )
    return [encoding.astype(np.float32).tolist() for encoding in encodings]


def warm_up() -> None:
    """Run each model once so the first real request does not pay for lazy setup."""
    pixels = np.zeros((64, 64, 3), dtype=np.uint8)
    detect(pixels, 0)
    face_recognition.face_encodings(pixels, known_face_locations=[(8, 56, 56, 8)])
