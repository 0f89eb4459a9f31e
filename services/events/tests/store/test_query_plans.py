"""Every query the API and the photo pipeline run (event codes, availability, the
photo queue, matching, my photos, invites, stats, retention) uses an index: EXPLAIN
on a populated database (thousands of rows per table, so the planner would rather
scan a table if no index served the query)."""

from __future__ import annotations

from datetime import UTC, datetime

from findme_events import matching
from findme_events.models import Match, Suggestion
from findme_events.store import (
    attendees,
    events,
    invites,
    missed,
    photo_queue,
    photos,
    retention,
    suggestions,
)
from sqlalchemy import text
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

POPULATE = [
    "INSERT INTO events (organizer_id, name, code, match_tolerance, maybe_tolerance, "
    "retention_days) SELECT :o, 'e' || i, upper(substr(md5(i::text), 1, 8)), 0.5, 0.55, 30 "
    "FROM generate_series(1, 500) AS i",
    "INSERT INTO attendees (event_id, username, username_key, password_hash) "
    "SELECT e.id, 'u' || i, 'u' || i, 'h' FROM events e CROSS JOIN generate_series(1, 20) AS i",
    "INSERT INTO selfies (attendee_id, jpeg, encoding, face_top, face_right, face_bottom, "
    "face_left, stored_bytes, consented_at) "
    "SELECT id, '\\x00', array_fill(0.1, ARRAY[128])::vector, 0, 1, 1, 0, 1, now() "
    "FROM attendees",
    "INSERT INTO photos (event_id, status, storage_key, content_hash, lease_until) "
    "SELECT e.id, (ARRAY['done','done','done','failed','pending','processing'])[1 + i % 6], "
    "'k', md5(e.id || '-' || i), CASE WHEN i % 6 = 5 THEN now() + interval '1 h' END "
    "FROM events e CROSS JOIN generate_series(1, 20) AS i",
    'INSERT INTO faces (photo_id, event_id, top, "right", bottom, "left", encoding) '
    "SELECT p.id, p.event_id, 0, 1, 1, 0, array_fill(0.2, ARRAY[128])::vector "
    "FROM photos p CROSS JOIN generate_series(1, 3)",
    "INSERT INTO matches (attendee_id, photo_id, face_id, distance, detected_at) "
    "SELECT a.id, f.photo_id, min(f.id), 0.3, now() - (a.id % 50) * interval '1 day' "
    "FROM attendees a JOIN faces f ON f.event_id = a.event_id "
    "WHERE (a.id + f.photo_id) % 7 = 0 GROUP BY a.id, f.photo_id",
    # One busy attendee: matched in 3,000 photos (pages must not sort them all).
    "INSERT INTO matches (attendee_id, photo_id, face_id, distance, detected_at) "
    "SELECT (SELECT max(id) FROM attendees), p.id, "
    "(SELECT min(f.id) FROM faces f WHERE f.photo_id = p.id), 0.3, "
    "now() - p.id * interval '1 minute' FROM photos p WHERE p.id <= 3000 "
    "ON CONFLICT DO NOTHING",
    "INSERT INTO face_references (attendee_id, event_id, selfie_id, encoding) "
    "SELECT s.attendee_id, a.event_id, s.id, s.encoding "
    "FROM selfies s JOIN attendees a ON a.id = s.attendee_id",
    "INSERT INTO nearby_faces (reference_id, face_id, attendee_id, photo_id, distance) "
    "SELECT r.id, f.id, r.attendee_id, f.photo_id, 0.52 "
    "FROM face_references r JOIN faces f ON f.event_id = r.event_id "
    "WHERE (r.attendee_id + f.id) % 5 = 0",
    "INSERT INTO suggestions (attendee_id, photo_id, face_id, distance, created_at) "
    "SELECT attendee_id, photo_id, min(face_id), 0.52, "
    "now() - (attendee_id % 40) * interval '1 day' "
    "FROM nearby_faces WHERE (attendee_id + photo_id) % 3 = 0 GROUP BY attendee_id, photo_id "
    "ON CONFLICT DO NOTHING",
    "INSERT INTO face_answers (attendee_id, face_id, photo_id, answer, created_at) "
    "SELECT attendee_id, face_id, photo_id, CASE WHEN face_id % 2 = 0 THEN 'me' ELSE 'not_me' END, "
    "now() - (attendee_id % 40) * interval '1 day' FROM nearby_faces WHERE face_id % 4 = 1",
    "INSERT INTO missed_photos (attendee_id, event_id, photo_id, status, lease_until, created_at) "
    "SELECT a.id, a.event_id, p.id, (ARRAY['done','failed','pending','processing'])[1 + p.id % 4], "
    "CASE WHEN p.id % 4 = 3 THEN now() + interval '1 h' END, "
    "now() - (a.id % 40) * interval '1 day' "
    "FROM attendees a JOIN photos p ON p.event_id = a.event_id WHERE (a.id + p.id) % 9 = 0",
    "INSERT INTO invites (event_id, token_hash, expires_at) "
    "SELECT e.id, md5('t' || e.id || '-' || i), now() + interval '1 day' "
    "FROM events e CROSS JOIN generate_series(1, 10) AS i",
]
TABLES = (
    "events",
    "attendees",
    "selfies",
    "photos",
    "faces",
    "matches",
    "invites",
    "face_references",
    "nearby_faces",
    "suggestions",
    "face_answers",
    "missed_photos",
)


def literal_sql(statement: object) -> str:
    return str(
        statement.compile(  # type: ignore[attr-defined]
            dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}
        )
    )


async def plan(conn: AsyncConnection, statement: object) -> str:
    rows = await conn.execute(text("EXPLAIN " + literal_sql(statement)))
    return "\n".join(row[0] for row in rows)


async def test_photo_queries_use_indexes(engine: AsyncEngine, organizer_id: int) -> None:
    async with engine.begin() as conn:
        for statement in POPULATE:
            await conn.execute(text(statement), {"o": organizer_id})
        ids = (
            await conn.execute(
                text(
                    "SELECT (SELECT max(id) FROM events) AS event, "
                    "(SELECT max(id) FROM attendees) AS attendee, "
                    "(SELECT max(id) FROM photos) AS photo, "
                    "(SELECT min(code) FROM events) AS code, "
                    "(SELECT max(id) FROM face_references) AS reference"
                )
            )
        ).one()
    autocommit = await engine.connect()
    try:
        conn = await autocommit.execution_options(isolation_level="AUTOCOMMIT")
        for table in TABLES:
            await conn.execute(text(f"VACUUM ANALYZE {table}"))
        cursor = (datetime.now(UTC), ids.photo)
        plans = {
            "event_by_code": await plan(conn, events.event_by_code_query(ids.code)),
            "availability": await plan(conn, attendees.availability_query(ids.event, "u3")),
            "claim": await plan(conn, photo_queue.claim_query(60.0)),
            "release_expired": await plan(conn, photo_queue.release_expired_query(3)),
            "pending_depth": await plan(conn, photo_queue.pending_depth_query()),
            "processing_depth": await plan(conn, photo_queue.processing_depth_query()),
            "hold": await plan(conn, photo_queue.hold_query(ids.photo, 1)),
            "lock_event": await plan(conn, matching.lock_event_query(ids.event)),
            "pair_photo": await plan(
                conn, matching.photo_pairs_query(event_id=ids.event, photo_id=ids.photo, bound=0.55)
            ),
            "pair_reference": await plan(
                conn,
                matching.reference_pairs_query(
                    reference_id=ids.reference,
                    attendee_id=ids.attendee,
                    event_id=ids.event,
                    encoding=[0.2] * 128,
                    bound=0.55,
                ),
            ),
            "attendee_photos": await plan(conn, matching.attendee_photos_query(ids.attendee)),
            "settle": await plan(
                conn,
                matching.settle_query(
                    range(ids.photo - 40, ids.photo + 1), matching.Bounds(0.5, 0.55)
                ),
            ),
            "matched_photos": await plan(conn, matching.matched_photos_query(ids.attendee)),
            "suggestions": await plan(conn, suggestions.suggestions_query(ids.attendee, None, 51)),
            "suggestions_next_page": await plan(
                conn, suggestions.suggestions_query(ids.attendee, cursor, 51)
            ),
            "offered_suggestion": await plan(
                conn, suggestions.offered_face_query(Suggestion, ids.attendee, ids.photo)
            ),
            "offered_match": await plan(
                conn, suggestions.offered_face_query(Match, ids.attendee, ids.photo)
            ),
            "missed_flag": await plan(conn, missed.flag_query(ids.attendee, ids.photo)),
            "missed_claim": await plan(conn, missed.claim_query(60.0)),
            "missed_release": await plan(conn, missed.release_query(3)),
            "progress": await plan(conn, events.progress_query(ids.event)),
            "list_events": await plan(conn, events.list_events_query(organizer_id + 1)),
            "owned_event": await plan(conn, events.owned_event_query(organizer_id, ids.event)),
            "my_photos": await plan(conn, photos.my_photos_query(ids.attendee, None, 51)),
            "my_photos_next_page": await plan(
                conn, photos.my_photos_query(ids.attendee, cursor, 51)
            ),
            "attendee_image": await plan(
                conn, photos.attendee_image_query(ids.photo, ids.attendee)
            ),
            "organizer_image": await plan(
                conn, photos.organizer_image_query(ids.photo, organizer_id)
            ),
            "invite": await plan(conn, invites.usable_invite_query("token")),
            "purge_matches": await plan(conn, retention.purge_matches_query(30)),
            "purge_selfies": await plan(conn, retention.purge_selfies_query(30)),
            "purge_faces": await plan(conn, retention.purge_faces_query(30)),
            "purge_failed_photos": await plan(conn, retention.expired_failed_photos_query(30, 100)),
        }
        for name, table in retention.LEARNT.items():
            plans[f"purge_{name}"] = await plan(conn, retention.purge_learnt_query(table, 30))
        for name, query in events.stats_queries(ids.event).items():
            plans[f"stats_{name}"] = await plan(conn, query)
    finally:
        await autocommit.close()

    expected_index = {
        "event_by_code": "uq_events_code",
        "availability": "Index Only Scan using uq_attendees_event_id_username_key",
        "claim": "ix_photos_pending",
        "release_expired": "ix_photos_processing_lease",
        "pending_depth": "ix_photos_pending",
        "processing_depth": "ix_photos_processing_lease",
        "hold": "pk_photos",
        "lock_event": "pk_events",
        "pair_photo": "ix_face_references_event_id",
        "pair_reference": "ix_faces_event_id",
        "attendee_photos": "ix_nearby_faces_attendee_id",
        "settle": "ix_nearby_faces_photo_id",
        "matched_photos": "uq_matches_attendee_id_photo_id",
        "suggestions": "ix_suggestions_attendee_id_created_at",
        "suggestions_next_page": "ix_suggestions_attendee_id_created_at",
        "offered_suggestion": "uq_suggestions_attendee_id_photo_id",
        "offered_match": "uq_matches_attendee_id_photo_id",
        "missed_flag": "uq_missed_photos_attendee_id_photo_id",
        "missed_claim": "ix_missed_photos_pending",
        "missed_release": "ix_missed_photos_processing_lease",
        "purge_references": "ix_face_references_created_at",
        "purge_suggestions": "ix_suggestions_created_at",
        "purge_answers": "ix_face_answers_created_at",
        "purge_missed_photos": "ix_missed_photos_created_at",
        "progress": "ix_photos_event_id_status",
        "owned_event": "pk_events",
        "my_photos": "ix_matches_attendee_id_detected_at",
        "my_photos_next_page": "ix_matches_attendee_id_detected_at",
        "attendee_image": "uq_matches_attendee_id_photo_id",
        "organizer_image": "pk_photos",
        "invite": "uq_invites_token_hash",
        "purge_matches": "ix_matches_detected_at",
        "purge_selfies": "ix_selfies_created_at",
        "purge_faces": "ix_faces_created_at",
        "purge_failed_photos": "ix_photos_failed_created_at",
        "stats_attendees": "uq_attendees_event_id_username_key",
        "stats_selfies": "ix_selfies_attendee_id",
        "stats_suggestions": "ix_suggestions_photo_id",
        "stats_missed_photos": "ix_missed_photos_event_id",
        "stats_faces": "ix_faces_event_id",
        "stats_matches": "ix_matches_photo_id",
    }
    for name, index in expected_index.items():
        assert index in plans[name], f"{name}:\n{plans[name]}"
    # All organizers' events share one table: listing one organizer's must not scan it.
    assert "ix_events_organizer_id" in plans["list_events"], plans["list_events"]
    for name, text_plan in plans.items():
        if name.startswith("purge_"):
            # A batch job: when a large share of rows expires at once, hashing the
            # attendees and events it joins beats an index probe per row. What
            # matters is that the expired rows are found by the time index.
            continue
        assert "Seq Scan" not in text_plan, f"{name}:\n{text_plan}"
