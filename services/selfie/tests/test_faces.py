"""Choosing the one subject of a selfie, on real detections."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from findme_common.refusals import Refusal
from findme_devstack import faces
from findme_selfie.faces import (
    Face,
    choose_selfie_face,
    detect,
    detect_selfie_faces,
    detect_tiled,
    overlap,
    tile_spans,
)
from PIL import Image

RULES = {"min_face_px": 60, "background_ratio": 0.5, "max_outside": 0.3, "min_other_score": 0.25}


def _face(left: int, width: int, outside: float = 0.0, score: float = 1.0) -> Face:
    return Face(
        top=10, right=left + width, bottom=10 + width, left=left, outside=outside, score=score
    )


def _pixels(faces_dir, name: str, max_side: int = 800) -> np.ndarray:
    image = Image.open(faces_dir / name).convert("RGB")
    image.thumbnail((max_side, max_side))
    return np.asarray(image)


def test_a_small_bystander_does_not_spoil_a_selfie() -> None:
    subject = _face(100, 200)

    assert choose_selfie_face([_face(10, 60), subject], **RULES) is subject


def test_a_doubtful_second_detection_does_not_spoil_a_selfie() -> None:
    subject = _face(100, 200)

    assert choose_selfie_face([subject, _face(400, 200, score=0.1)], **RULES) is subject


def test_the_astronauts_patch_is_a_doubtful_detection(faces_dir) -> None:
    face, patch = sorted(detect(_pixels(faces_dir, faces.ASTRONAUT), 0), key=lambda f: f.top)

    assert face.score > 1.0 and patch.score < RULES["min_other_score"]
    assert choose_selfie_face([face, patch], **RULES) is face


@pytest.mark.parametrize(
    ("faces", "reason"),
    [
        ([], "no_face"),
        ([_face(0, 200), _face(300, 120)], "multiple_faces"),
        ([_face(0, 200), _face(300, 120, score=0.3)], "multiple_faces"),
        ([_face(0, 59)], "face_too_small"),
        ([_face(0, 200, outside=0.35)], "face_cut_off"),
    ],
)
def test_refusals(faces: list[Face], reason: str) -> None:
    with pytest.raises(Refusal) as caught:
        choose_selfie_face(faces, **RULES)
    assert caught.value.reason == reason


def test_partial_face_is_measured_against_the_unclipped_box(faces_dir) -> None:
    (face,) = detect(_pixels(faces_dir, "variants/obama_partial_face.jpg"), 0)

    assert face.left == 0
    assert 0.15 < face.outside < 0.3  # clipped, yet within what still encodes well


def test_upsampling_only_when_nothing_is_found(faces_dir) -> None:
    found, upsampled = detect_selfie_faces(_pixels(faces_dir, "selfies/obama.jpg"))
    assert len(found) == 1 and not upsampled

    nothing, retried = detect_selfie_faces(_pixels(faces_dir, faces.NO_FACE))
    assert nothing == [] and retried


@pytest.mark.parametrize(
    ("length", "expected"),
    [
        (700, [(0, 700)]),
        (800, [(0, 800)]),
        (1200, [(0, 650), (550, 650)]),
        (2000, [(0, 734), (633, 734), (1266, 734)]),
    ],
)
def test_tiles_cover_the_photo_overlapping_by_at_least_the_overlap(
    length: int, expected: list[tuple[int, int]]
) -> None:
    spans = tile_spans(length, 800, 100)
    assert spans == expected
    assert spans[-1][0] + spans[-1][1] == length
    for (start, size), (next_start, _) in itertools.pairwise(spans):
        assert size <= 800 and start + size - next_start >= 100


def test_a_face_in_two_tiles_is_found_once(faces_dir) -> None:
    # The crowd's middle column straddles the seam of two 1000 px tiles.
    pixels = _pixels(faces_dir, faces.CROWD, max_side=1800)
    tiled = detect_tiled(pixels, tile=1000, overlap_px=400, upsample=0)
    whole = detect(pixels, 0)
    assert len(tiled) == len(whole) == 9
    for face in tiled:
        assert max(overlap(face, other) for other in whole) > 0.5
