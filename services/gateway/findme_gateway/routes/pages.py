"""The two web pages: attendees at ``/``, organizers at ``/organizer``."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"

# Scripts and styles come only from this origin (no inline code, no CDN). Photos
# need the bearer token, so the pages fetch them and show them as blob: URLs.
_PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' blob:; object-src 'none'; "
        "base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}

router = APIRouter(tags=["pages"], include_in_schema=False)


@router.get("/")
async def attendee_page() -> FileResponse:
    return FileResponse(STATIC_DIR / "index.html", headers=_PAGE_HEADERS)


@router.get("/organizer")
async def organizer_page() -> FileResponse:
    return FileResponse(STATIC_DIR / "organizer.html", headers=_PAGE_HEADERS)
