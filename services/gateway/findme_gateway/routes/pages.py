"""The two web pages: attendees at ``/``, organizers at ``/organizer``.

Each page's links to its scripts and styles carry a fingerprint of the file
(``/static/api.js?v=<sha256 prefix>``), so a deploy reaches every browser at once
while the assets themselves can be cached for long (nginx, browsers).
"""

from __future__ import annotations

import hashlib
import re
from functools import cache
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"

# Scripts and styles come only from this origin (no inline code, no CDN). Photos
# need the bearer token, so the pages fetch them and show them as blob: URLs.
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' blob:; object-src 'none'; "
        "base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}

_ASSET = re.compile(r'(?P<attr>(?:src|href)=")/static/(?P<name>[\w.-]+)"')

router = APIRouter(tags=["pages"], include_in_schema=False)


def _fingerprint(name: str) -> str:
    return hashlib.sha256((STATIC_DIR / name).read_bytes()).hexdigest()[:12]


@cache
def render(page: str) -> str:
    """The page with a content fingerprint on every /static/ link (read once)."""
    html = (STATIC_DIR / page).read_text()
    return _ASSET.sub(
        lambda m: f'{m["attr"]}/static/{m["name"]}?v={_fingerprint(m["name"])}"', html
    )


@router.get("/")
async def attendee_page() -> HTMLResponse:
    return HTMLResponse(render("index.html"), headers=PAGE_HEADERS)


@router.get("/organizer")
async def organizer_page() -> HTMLResponse:
    return HTMLResponse(render("organizer.html"), headers=PAGE_HEADERS)
