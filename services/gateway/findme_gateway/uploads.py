"""Reading uploaded files within their limits, before any backend sees them."""

from __future__ import annotations

from fastapi import UploadFile
from findme_common.refusals import Reason

from findme_gateway.errors import ApiError


def sniff_format(head: bytes) -> str | None:
    """The image formats the selfie service decodes, recognised by their magic bytes."""
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[4:8] == b"ftyp" and head[8:12] in {b"heic", b"heix", b"hevc", b"heim", b"mif1"}:
        return "heif"
    return None


async def read_within(upload: UploadFile, limit: int) -> bytes | None:
    """The file's bytes, or None when it is larger than ``limit`` (reads one byte past
    the limit: enough to know, without buffering more)."""
    content = await upload.read(limit + 1)
    return None if len(content) > limit else content


async def read_image(upload: UploadFile, limit: int) -> bytes:
    """One image (a selfie): its bytes, or 413 ``too_large``. The selfie service
    judges the content."""
    content = await read_within(upload, limit)
    if content is None:
        raise ApiError(Reason.TOO_LARGE, f"The image is larger than {limit} bytes.")
    return content


async def read_photos(files: list[UploadFile], *, limit: int, max_files: int) -> list[bytes]:
    """Every file's bytes, or one refusal naming every offending file (nothing stored)."""
    if len(files) > max_files:
        raise ApiError(Reason.TOO_MANY_FILES, f"Send at most {max_files} photos per request.")
    contents, too_large, unsupported = [], [], []
    for index, upload in enumerate(files):
        name = upload.filename or f"file {index + 1}"
        content = await read_within(upload, limit)
        if content is None:
            too_large.append(name)
        elif sniff_format(content[:16]) is None:
            unsupported.append(name)
        else:
            contents.append(content)
    if too_large:
        raise ApiError(
            Reason.TOO_LARGE, f"Photos are at most {limit} bytes each.", extra={"files": too_large}
        )
    if unsupported:
        raise ApiError(
            Reason.UNSUPPORTED_FORMAT,
            "Photos must be JPEG, PNG, WebP or HEIC.",
            extra={"files": unsupported},
        )
    return contents
