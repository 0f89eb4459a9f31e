"""Secrets that travel in URL paths, kept out of every log line.

An invite link's token is a bearer secret: anyone holding it may register at the
event. The page sends it in the path of ``POST /api/invites/{token}/register``, so
the access log (and any error log naming the path) writes ``/api/invites/<redacted>/register``.
"""

from __future__ import annotations

import re

REDACTED = "<redacted>"

# Path segments that are secrets: the segment after each of these prefixes.
_SECRET_SEGMENTS = re.compile(r"(?<=^/api/invites/)[^/]+")


def loggable_path(path: str | None) -> str | None:
    """``path`` with every secret segment replaced by ``<redacted>``."""
    if path is None:
        return None
    return _SECRET_SEGMENTS.sub(REDACTED, path)
