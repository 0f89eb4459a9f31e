"""Reading uploaded files within their limits, before any backend sees them.

An upload's body is read only after the route's token and rate-limit checks (the
routes declare no File/Form parameters, which FastAPI would parse before any
dependency runs; ``deps.upload_form`` reads the form once the checks passed), and
at most ``max_concurrent_uploads`` bodies are read at once per process.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from findme_common.refusals import Reason
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request

from findme_gateway.errors import ApiError

# Seconds a client is asked to wait when every upload slot is taken.
UPLOAD_RETRY_AFTER = 2
# Text fields an upload form may carry besides its files.
MAX_FORM_FIELDS = 16


class UploadSlots:
    """At most ``limit`` upload bodies in flight in this process; past that, the
    request is refused (503 ``overloaded``) instead of queueing its body."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.in_use = 0

    @asynccontextmanager
    async def hold(self) -> AsyncIterator[None]:
        if self.in_use >= self.limit:
            raise ApiError(
                Reason.OVERLOADED,
                "Too many uploads at once; try again shortly.",
                headers={"Retry-After": str(UPLOAD_RETRY_AFTER)},
            )
        self.in_use += 1
        try:
            yield
        finally:
            self.in_use -= 1


async def read_form(request: Request, *, max_files: int) -> FormData:
    """The multipart (or urlencoded) body; more than ``max_files`` files is 413."""
    try:
        return await request.form(max_files=max_files, max_fields=MAX_FORM_FIELDS)
    except HTTPException as exc:
        if "Too many files" in str(exc.detail):
            raise ApiError(
                Reason.TOO_MANY_FILES, f"Send at most {max_files - 1} files per request."
            ) from None
        raise


def _missing(field: str, what: str) -> ApiError:
    return ApiError(Reason.INVALID_REQUEST, f"{field}: {what}", extra={"field": field})


def form_file(form: FormData, field: str) -> UploadFile:
    value = form.get(field)
    if not isinstance(value, UploadFile):
        raise _missing(field, "a file is required")
    return value


def form_files(form: FormData, field: str) -> list[UploadFile]:
    files = [value for value in form.getlist(field) if isinstance(value, UploadFile)]
    if not files:
        raise _missing(field, "at least one file is required")
    return files


def form_text(form: FormData, field: str, *, min_length: int, max_length: int) -> str:
    value = form.get(field)
    if not isinstance(value, str):
        raise _missing(field, "a text field is required")
    if not min_length <= len(value) <= max_length:
        raise _missing(field, f"between {min_length} and {max_length} characters")
    return value


_TRUE, _FALSE = frozenset({"true", "1", "on"}), frozenset({"false", "0", "off", ""})


def form_flag(form: FormData, field: str) -> bool:
    """An optional yes/no field (a checkbox): absent is no."""
    value = form.get(field, "")
    if isinstance(value, str) and value.lower() in _TRUE | _FALSE:
        return value.lower() in _TRUE
    raise _missing(field, "true or false")


_FILE = {"type": "string", "format": "binary"}


def multipart_body(
    *,
    files: tuple[str, ...] = (),
    repeated: tuple[str, ...] = (),
    text: tuple[str, ...] = (),
    flags: tuple[str, ...] = (),
) -> dict[str, Any]:
    """The OpenAPI request body of a multipart route that reads its form itself
    (``flags`` are optional yes/no fields)."""
    properties: dict[str, Any] = {name: {"type": "string"} for name in text}
    properties.update({name: _FILE for name in files})
    properties.update({name: {"type": "array", "items": _FILE} for name in repeated})
    required = list(properties)
    properties.update({name: {"type": "boolean", "default": False} for name in flags})
    schema = {"type": "object", "required": required, "properties": properties}
    return {
        "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": schema}}}
    }


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
