"""Decoding untrusted bytes, in-process (no dlib involved)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from findme_common.refusals import Refusal
from findme_selfie.images import compress_to_target, decode, sniff_format
from PIL import Image

LIMITS = {"max_bytes": 15 * 1024 * 1024, "max_pixels": 50_000_000}


def _reason(data: bytes, **limits: int) -> str:
    with pytest.raises(Refusal) as caught:
        decode(data, **{**LIMITS, **limits, "max_side": 800})
    return caught.value.reason


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [("JPEG", "jpeg"), ("PNG", "png"), ("WEBP", "webp"), ("GIF", "gif"), ("HEIF", "heif")],
)
def test_accepted_formats_are_sniffed_from_the_bytes(samples, fmt: str, expected: str) -> None:
    data = samples.encode(Image.new("RGB", (32, 24), "red"), fmt)

    assert sniff_format(data) == expected
    decoded = decode(data, **LIMITS, max_side=800)
    assert decoded.source_format == expected
    assert decoded.image.mode == "RGB"
    assert decoded.image.size == (32, 24)


@pytest.mark.parametrize("fmt", ["BMP", "TIFF", "ICO", "PPM", "TGA"])
def test_other_image_formats_are_unsupported_not_garbage(samples, fmt: str) -> None:
    data = samples.encode(Image.new("RGB", (32, 32), "red"), fmt)

    expected = "unsupported_format" if fmt in {"BMP", "TIFF", "ICO"} else "not_an_image"
    assert _reason(data) == expected


def test_size_is_checked_before_anything_is_parsed() -> None:
    assert _reason(b"\xff\xd8\xff" + bytes(2000), max_bytes=1000) == "too_large"


def test_pixel_count_is_refused_from_the_header(samples) -> None:
    bomb = samples.png_bomb(10000)  # 100 MP claimed by a ~70 byte file

    assert len(bomb) < 200
    assert _reason(bomb) == "too_many_pixels"
    assert _reason(samples.png_bomb(1000), max_pixels=999_999) == "too_many_pixels"


def test_big_jpeg_comes_out_small_and_reports_its_source_size(samples) -> None:
    data = samples.encode(Image.new("RGB", (4000, 3000), "blue"), "JPEG")

    decoded = decode(data, **LIMITS, max_side=800)

    assert decoded.image.size == (800, 600)
    assert (decoded.source_width, decoded.source_height) == (4000, 3000)


def test_exif_orientation_turns_the_picture_upright(samples) -> None:
    upright = Image.new("RGB", (300, 400), "white")
    upright.paste((255, 0, 0), (0, 0, 300, 100))  # red band along the top

    decoded = decode(samples.exif_rotated_jpeg(upright), **LIMITS, max_side=800)

    assert decoded.image.size == (300, 400)
    assert (decoded.source_width, decoded.source_height) == (300, 400)
    top, bottom = decoded.image.getpixel((150, 20)), decoded.image.getpixel((150, 380))
    assert top[0] > 200 and top[1] < 60  # type: ignore[index]
    assert min(bottom) > 200  # type: ignore[arg-type]


def test_transparency_becomes_white(samples) -> None:
    clear = Image.new("RGBA", (16, 16), (0, 0, 0, 0))

    decoded = decode(samples.encode(clear, "PNG"), **LIMITS, max_side=800)

    assert decoded.image.getpixel((8, 8)) == (255, 255, 255)


def test_sixteen_bit_grey_is_scaled_not_clipped(samples) -> None:
    mid_grey = Image.fromarray(np.full((8, 8), 128 * 257, dtype=np.uint16))

    decoded = decode(samples.encode(mid_grey, "PNG"), **LIMITS, max_side=800)

    assert decoded.image.getpixel((4, 4)) == (128, 128, 128)


def test_sixteen_bit_colour_keeps_its_colour(samples) -> None:
    decoded = decode(samples.png_16bit_rgb(Image.new("RGB", (4, 4), (10, 120, 240))), **LIMITS,
                     max_side=800)  # fmt: skip

    assert decoded.image.getpixel((1, 1)) == (10, 120, 240)


def test_animated_gif_uses_its_first_frame(samples) -> None:
    frames = [Image.new("RGB", (8, 8), colour) for colour in ("red", "blue")]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:])

    decoded = decode(out.getvalue(), **LIMITS, max_side=800)

    red, _green, blue = decoded.image.getpixel((4, 4))  # type: ignore[misc]
    assert red > 200 and blue < 60


def test_typical_selfie_compresses_at_the_top_quality(read_face) -> None:
    photo = decode(read_face("selfies/obama.jpg"), **LIMITS, max_side=600).image

    compressed = compress_to_target(photo, target_bytes=200_000)

    assert compressed.quality == 85
    assert len(compressed.data) <= 200_000
    assert (compressed.width, compressed.height) == photo.size


def test_noise_is_squeezed_under_the_target() -> None:
    noise = Image.fromarray(np.random.default_rng(7).integers(0, 256, (600, 600, 3), np.uint8))

    compressed = compress_to_target(noise, target_bytes=100_000)

    assert len(compressed.data) <= 100_000
    assert 65 <= compressed.quality <= 85  # shrunk first, since even 65 was too big
    assert compressed.width < 600
    assert Image.open(io.BytesIO(compressed.data)).size == (compressed.width, compressed.height)
