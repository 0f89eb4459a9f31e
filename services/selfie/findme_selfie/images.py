"""Safe decoding and JPEG output.

Every input is untrusted: the format is sniffed from the bytes (never from a name or
a content type), the pixel count is checked from the header before any pixel is
decoded, and decoder failures become a refusal rather than a crash.
"""

from __future__ import annotations

import io
import math
import warnings
from dataclasses import dataclass

import numpy as np
import pillow_heif
from findme_common.refusals import Reason, Refusal
from PIL import Image, ImageOps

# PIL format names accepted per sniffed format; MPO is the multi-picture JPEG phones write.
_PIL_FORMATS = {
    "jpeg": ["JPEG", "MPO"],
    "png": ["PNG"],
    "webp": ["WEBP"],
    "gif": ["GIF"],
    "heif": ["HEIF"],
}
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs",
                b"mif1", b"msf1", b"mif2"}  # fmt: skip
# Real images in formats we do not take: refused as unsupported_format, not not_an_image.
_OTHER_SIGNATURES = {
    b"BM": "bmp",
    b"II*\x00": "tiff",
    b"MM\x00*": "tiff",
    b"\x00\x00\x01\x00": "ico",
    b"8BPS": "psd",
    b"\x00\x00\x00\x0cjP  ": "jpeg2000",
    b"\xffO\xffQ": "jpeg2000",
    b"\xff\x0a": "jxl",
    b"\x00\x00\x00\x0cJXL ": "jxl",
    b"qoif": "qoi",
    b"DDS ": "dds",
    b"v/1\x01": "openexr",
    b"%PDF": "pdf",
}

pillow_heif.register_heif_opener()

# EXIF orientations that turn the picture a quarter turn (width and height swap).
_QUARTER_TURNS = {5, 6, 7, 8}
_ORIENTATION_TAG = 0x0112


def sniff_format(data: bytes) -> str:
    """The accepted format of ``data`` (jpeg, png, webp, gif, heif) or a refusal."""
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if data[4:8] == b"ftyp":
        if data[8:12] in _HEIF_BRANDS:
            return "heif"
        brand = data[8:12].decode("latin-1").strip()
        raise Refusal(Reason.UNSUPPORTED_FORMAT, f"unsupported format (ISO media '{brand}')")
    for signature, name in _OTHER_SIGNATURES.items():
        if data.startswith(signature):
            raise Refusal(Reason.UNSUPPORTED_FORMAT, f"unsupported format ({name})")
    head = data[:1024].lstrip().lower()
    if head.startswith(b"<svg") or (head.startswith(b"<?xml") and b"<svg" in head):
        raise Refusal(Reason.UNSUPPORTED_FORMAT, "unsupported format (svg)")
    raise Refusal(Reason.NOT_AN_IMAGE, "the file is not an image")


@dataclass(frozen=True)
class Decoded:
    image: Image.Image  # RGB, upright, at most the requested max side
    source_format: str
    source_width: int  # upright size of the original, before any downscaling
    source_height: int


def fit(width: int, height: int, max_side: int) -> tuple[int, int]:
    """The size of a (width, height) image shrunk to fit ``max_side``."""
    scale = min(1.0, max_side / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def _to_rgb(image: Image.Image) -> Image.Image:
    mode = image.mode
    if mode.startswith("I;16") or mode == "I":
        # PIL clips 16-bit samples to 255 on convert("L"); scale them down instead.
        samples = np.asarray(image, dtype=np.uint32 if mode == "I" else np.uint16)
        top = 65535 if mode.startswith("I;16") or samples.max() > 255 else 255
        scaled = (samples.astype(np.float32) * (255.0 / top)).clip(0, 255)
        image = Image.fromarray(scaled.astype(np.uint8), "L")
        mode = "L"
    elif mode == "F":
        image = Image.fromarray(np.asarray(image).clip(0, 255).astype(np.uint8), "L")
        mode = "L"
    if mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
        mode = image.mode
    if mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        # Transparent pixels hold arbitrary colour; put them on white, as viewers do.
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image if mode == "RGB" else image.convert("RGB")


def decode(
    data: bytes, *, max_bytes: int, max_pixels: int, max_side: int, draft_side: int | None = None
) -> Decoded:
    """Decode ``data`` to an upright RGB image no larger than ``max_side``.

    JPEGs are DCT-scaled down to no less than ``draft_side`` (default ``max_side``):
    with a smaller ``draft_side``, the caller keeps whatever resolution above it the
    decoder gives at that reduced cost, up to ``max_side``.

    Raises Refusal: too_large, not_an_image, unsupported_format, too_many_pixels.
    """
    if len(data) > max_bytes:
        raise Refusal(Reason.TOO_LARGE, f"the file is larger than {max_bytes} bytes")
    source_format = sniff_format(data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image: Image.Image = Image.open(io.BytesIO(data), formats=_PIL_FORMATS[source_format])
            width, height = image.size
            if width * height > max_pixels:
                raise Refusal(
                    Reason.TOO_MANY_PIXELS, f"{width}x{height} is more than {max_pixels} pixels"
                )
            if source_format == "jpeg":
                # Decode-time DCT scaling: a 4000 px photo decodes at 1/2..1/8 the cost.
                image.draft(None, fit(width, height, min(max_side, draft_side or max_side)))
            if image.getexif().get(_ORIENTATION_TAG) in _QUARTER_TURNS:
                width, height = height, width
            image.load()
            image = ImageOps.exif_transpose(image)
            image = _to_rgb(image)
    except Refusal:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise Refusal(Reason.TOO_MANY_PIXELS, "the image has too many pixels") from None
    except Exception:
        # Truncated or corrupt data, whatever the decoder raises for it.
        raise Refusal(Reason.NOT_AN_IMAGE, "the image data is corrupt or truncated") from None
    return Decoded(
        image=downscale(image, max_side),
        source_format=source_format,
        source_width=width,
        source_height=height,
    )


def downscale(image: Image.Image, max_side: int) -> Image.Image:
    """Shrink to fit ``max_side``; cheap box reduction first, then bilinear."""
    size = fit(*image.size, max_side)
    if size == image.size:
        return image
    return image.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)


def resize_small(image: Image.Image, max_side: int) -> Image.Image:
    """Shrink an already small (detection-sized) copy with a sharper filter."""
    size = fit(*image.size, max_side)
    if size == image.size:
        return image
    return image.resize(size, Image.Resampling.BICUBIC, reducing_gap=3.0)


def encode_jpeg(image: Image.Image, quality: int) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()


@dataclass(frozen=True)
class CompressedJpeg:
    data: bytes
    quality: int
    width: int
    height: int


def compress_to_target(
    image: Image.Image, *, target_bytes: int, qualities: tuple[int, ...] = (85, 80, 75, 70, 65)
) -> CompressedJpeg:
    """The best quality in ``qualities`` that fits ``target_bytes``; if even the lowest
    does not (pathological noise), shrink the image until it does."""
    while True:
        for quality in qualities:
            data = encode_jpeg(image, quality)
            if len(data) <= target_bytes:
                return CompressedJpeg(data, quality, *image.size)
        if max(image.size) <= 32:
            return CompressedJpeg(data, quality, *image.size)
        shrunk = (max(1, math.floor(image.width * 0.75)), max(1, math.floor(image.height * 0.75)))
        image = image.resize(shrunk, Image.Resampling.BILINEAR)
