"""Matching a newly analysed photo against the event's attendees' selfies.

(The other direction, a new selfie against the event's faces, runs in
``repository.save_selfie``.) Both keep at most one match per (attendee, photo):
the closest face within the event's tolerance.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

# Locks every attendee of the event in a mode that conflicts only with
# save_selfie's FOR UPDATE: a selfie being stored or replaced right now either
# finishes before this photo reads the selfies (and is matched here), or waits for
# this transaction (and then sees the photo's faces). Logins and other photos are
# not blocked. Locking attendees rather than selfies also covers a first selfie,
# which has no row to lock yet.
LOCK_ATTENDEES = text(
    "SELECT count(*) FROM ("
    "SELECT id FROM attendees WHERE event_id = :event_id ORDER BY id FOR KEY SHARE"
    ") AS locked"
)

MATCH_PHOTO = text(
    """
    INSERT INTO matches (attendee_id, photo_id, face_id, distance)
    SELECT DISTINCT ON (s.attendee_id)
           s.attendee_id, f.photo_id, f.id, f.encoding <-> s.encoding
    FROM faces f
    JOIN attendees a ON a.event_id = :event_id
    JOIN selfies s ON s.attendee_id = a.id
    WHERE f.photo_id = :photo_id
      AND f.encoding <-> s.encoding <= :tolerance
    ORDER BY s.attendee_id, f.encoding <-> s.encoding, f.id
    ON CONFLICT (attendee_id, photo_id) DO NOTHING
    """
)


async def match_photo(
    *, conn: AsyncConnection, event_id: int, photo_id: int, tolerance: float
) -> int:
    """Insert the photo's matches (its faces must be stored); return how many."""
    await conn.execute(LOCK_ATTENDEES, {"event_id": event_id})
    result = await conn.execute(
        MATCH_PHOTO, {"event_id": event_id, "photo_id": photo_id, "tolerance": tolerance}
    )
    return int(result.rowcount)
