"""The jobs a worker process runs: bytes in, JPEGs, boxes and encodings out."""

from __future__ import annotations

import numpy as np
from PIL import Image

from findme_selfie import faces, images
from findme_selfie.config import SelfieSettings
from findme_selfie.faces import Face
from findme_selfie.schemas import Box, CloserLook, PhotoFace, PhotoResult, SelfieResult


def _box(face: Face) -> Box:
    return Box(top=face.top, right=face.right, bottom=face.bottom, left=face.left)


def process_selfie(data: bytes, settings: SelfieSettings) -> SelfieResult:
    """Validate a selfie: exactly one whole, big enough face; store a small JPEG."""
    decoded = images.decode(
        data,
        max_bytes=settings.max_bytes,
        max_pixels=min(settings.max_pixels, settings.max_selfie_pixels),
        max_side=settings.selfie_detect_max_side,
    )
    detection = decoded.image
    pixels = np.asarray(detection)
    found, upsampled = faces.detect_selfie_faces(pixels)
    face = faces.choose_selfie_face(
        found,
        min_face_px=settings.min_face_px,
        background_ratio=settings.background_face_ratio,
        max_outside=settings.max_face_outside,
        min_other_score=settings.min_other_face_score,
    )
    (encoding,) = faces.encode(pixels, [face])

    stored = images.resize_small(detection, settings.selfie_store_max_side)
    compressed = images.compress_to_target(stored, target_bytes=settings.selfie_target_bytes)
    stored_face = face.scaled(
        compressed.width / detection.width, compressed.height / detection.height
    )
    return SelfieResult(
        jpeg=compressed.data,
        width=compressed.width,
        height=compressed.height,
        face=_box(stored_face),
        encoding=encoding,
        source_format=decoded.source_format,
        source_width=decoded.source_width,
        source_height=decoded.source_height,
        face_width=face.width,
        upsampled=upsampled,
        jpeg_quality=compressed.quality,
    )


def _decode_photo(data: bytes, settings: SelfieSettings) -> images.Decoded:
    """An event photo at the size its faces are encoded from (both photo jobs decode
    alike, so their boxes share the display copy's coordinates)."""
    view_side = max(settings.photo_detect_max_side, settings.display_max_side)
    return images.decode(
        data,
        max_bytes=settings.max_bytes,
        max_pixels=settings.max_pixels,
        max_side=max(settings.photo_encode_max_side, view_side),
        draft_side=view_side,
    )


def _encode_from(
    source: Image.Image, detection: Image.Image, found: list[Face]
) -> list[list[float]]:
    """Encodings from the sharpest copy at hand, with the boxes scaled up to it."""
    to_source = (source.width / detection.width, source.height / detection.height)
    return faces.encode(np.asarray(source), [face.scaled(*to_source) for face in found])


def analyze_photo(data: bytes, settings: SelfieSettings) -> PhotoResult:
    """Every face of an event photo, plus its display copy and thumbnail."""
    decoded = _decode_photo(data, settings)
    source = decoded.image
    detection = images.downscale(source, settings.photo_detect_max_side)
    # Group shots have small faces: upsampling finds them at several times the cost.
    found = faces.detect(np.asarray(detection), settings.photo_detect_upsample)
    encodings = _encode_from(source, detection, found)

    display = (
        detection
        if settings.display_max_side == settings.photo_detect_max_side
        else images.downscale(source, settings.display_max_side)
    )
    scale_x, scale_y = display.width / detection.width, display.height / detection.height
    thumbnail = images.resize_small(display, settings.thumbnail_max_side)
    return PhotoResult(
        display_jpeg=images.encode_jpeg(display, settings.display_jpeg_quality),
        display_width=display.width,
        display_height=display.height,
        thumbnail_jpeg=images.encode_jpeg(thumbnail, settings.thumbnail_jpeg_quality),
        faces=[
            PhotoFace(box=_box(face.scaled(scale_x, scale_y)), encoding=encoding)
            for face, encoding in zip(found, encodings, strict=True)
        ],
        source_format=decoded.source_format,
    )


def look_closer(data: bytes, settings: SelfieSettings) -> CloserLook:
    """ "You missed me here": the photo's faces found again on a larger copy, tile by
    tile at a higher upsample, encoded like ``analyze_photo``'s; boxes in its display
    copy's coordinates."""
    source = _decode_photo(data, settings).image
    closer = images.downscale(source, settings.closer_look_max_side)
    found = faces.detect_tiled(
        np.asarray(closer),
        tile=settings.closer_look_tile_side,
        overlap_px=settings.closer_look_tile_overlap,
        upsample=settings.closer_look_upsample,
    )
    encodings = _encode_from(source, closer, found)
    width, height = images.fit(source.width, source.height, settings.display_max_side)
    scale_x, scale_y = width / closer.width, height / closer.height
    return CloserLook(
        faces=[
            PhotoFace(box=_box(face.scaled(scale_x, scale_y)), encoding=encoding)
            for face, encoding in zip(found, encodings, strict=True)
        ],
        display_width=width,
        display_height=height,
    )
