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
