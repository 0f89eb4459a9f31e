"""The photo job (``pipelines.analyze_photo``) in this process, on real photos and
the real dlib models: every face found, each encoded from the sharpest pixels at
hand, display copy and thumbnail within their sizes."""

from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np
import pytest
from findme_devstack import faces
from findme_selfie import pipelines
from findme_selfie.config import SelfieSettings
from findme_selfie.faces import Face, overlap
from PIL import Image

SETTINGS = SelfieSettings()


def distance(a: list[float], b: list[float]) -> float:
    return float(np.linalg.norm(np.asarray(a) - np.asarray(b)))


@pytest.fixture(scope="module")
def reference(read_face: Callable[[str], bytes]) -> dict[str, list[float]]:
    """Encodings of the plain obama and biden selfies."""
    return {
        who: pipelines.process_selfie(read_face(name), SETTINGS).encoding
        for who, name in (("obama", faces.OBAMA), ("biden", faces.BIDEN))
    }


def test_group_photo_finds_every_face(read_face: Callable[[str], bytes]) -> None:
    result = pipelines.analyze_photo(read_face(faces.CROWD), SETTINGS)

    assert len(result.faces) == 9
    display = Image.open(io.BytesIO(result.display_jpeg))
    thumbnail = Image.open(io.BytesIO(result.thumbnail_jpeg))
    assert display.size == (result.display_width, result.display_height)
    assert max(display.size) <= 1600
    assert max(thumbnail.size) <= 320
    assert result.source_format == "jpeg"
    for face in result.faces:
        assert 0 <= face.box.left < face.box.right <= result.display_width
        assert 0 <= face.box.top < face.box.bottom <= result.display_height
        assert len(face.encoding) == 128


def test_event_photo_faces_match_the_selfies(
    read_face: Callable[[str], bytes], reference: dict[str, list[float]]
) -> None:
    result = pipelines.analyze_photo(read_face(faces.TWO_PEOPLE), SETTINGS)

    assert len(result.faces) == 2
    for who in ("obama", "biden"):
        nearest = min(distance(face.encoding, reference[who]) for face in result.faces)
        assert nearest < 0.6, who


def test_small_faces_in_a_big_photo_are_encoded_from_its_sharper_pixels(
    read_face: Callable[[str], bytes], samples, reference: dict[str, list[float]]
) -> None:
    # A 6000 px camera frame with the two faces ~120 px wide: ~30 px in the 1600 px
    # detection copy, twice that in the half-size copy the JPEG decoder gives for free.
    canvas = Image.new("RGB", (6000, 4000), (90, 90, 90))
    canvas.paste(Image.open(io.BytesIO(read_face(faces.TWO_PEOPLE))), (200, 200))

    result = pipelines.analyze_photo(samples.encode(canvas, "JPEG", quality=90), SETTINGS)

    assert len(result.faces) == 2
    assert max(face.box.right - face.box.left for face in result.faces) < 60
    nearest = {
        who: min(distance(face.encoding, reference[who]) for face in result.faces)
        for who in ("obama", "biden")
    }
    assert nearest["biden"] < 0.12
    assert nearest["obama"] < 0.4


def test_a_photo_without_faces_is_fine(read_face: Callable[[str], bytes]) -> None:
    result = pipelines.analyze_photo(read_face(faces.NO_FACE), SETTINGS)

    assert result.faces == []
    assert result.display_jpeg and result.thumbnail_jpeg


def test_a_closer_look_finds_faces_too_small_for_the_first_pass(
    read_face: Callable[[str], bytes], reference: dict[str, list[float]]
) -> None:
    """Two people far away in a 4000 px frame (~25 px in the 1600 px copy)."""
    data = read_face(faces.FAR_AWAY)
    first = pipelines.analyze_photo(data, SETTINGS)
    closer = pipelines.look_closer(data, SETTINGS)

    assert first.faces == []
    assert (closer.display_width, closer.display_height) == (
        first.display_width,
        first.display_height,
    )
    assert len(closer.faces) == 2
    for who in ("obama", "biden"):
        nearest = min(distance(face.encoding, reference[who]) for face in closer.faces)
        assert nearest < 0.4, who
    for face in closer.faces:
        assert 0 <= face.box.left < face.box.right <= closer.display_width
        assert 0 <= face.box.top < face.box.bottom <= closer.display_height


def test_a_closer_look_keeps_the_boxes_of_the_first_pass(read_face: Callable[[str], bytes]) -> None:
    """Faces the first pass found come back where they were (the worker then knows
    them for the same faces and stores nothing twice)."""
    data = read_face(faces.TWO_PEOPLE)
    first = pipelines.analyze_photo(data, SETTINGS)
    closer = pipelines.look_closer(data, SETTINGS)
    assert len(closer.faces) == len(first.faces) == 2
    for face in closer.faces:
        box = face.box
        best = max(
            overlap(
                Face(box.top, box.right, box.bottom, box.left, outside=0),
                Face(o.box.top, o.box.right, o.box.bottom, o.box.left, outside=0),
            )
            for o in first.faces
        )
        assert best > 0.5
