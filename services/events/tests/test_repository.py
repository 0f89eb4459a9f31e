"""Data functions against a real, migrated PostgreSQL database."""

from __future__ import annotations

import numpy as np
import pytest
from findme_events import codes, repository
from findme_events.errors import AlreadyExists, NotFound
from findme_events.schemas import FaceBox
from sqlalchemy import text
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncEngine

BOX = FaceBox(top=10, right=60, bottom=60, left=10)


async def make_event(engine: AsyncEngine, organizer_id: int, tolerance: float = 0.6) -> int:
    async with engine.begin() as conn:
        event = await repository.create_event(
            conn=conn,
            organizer_id=organizer_id,
            name="Party",
            match_tolerance=tolerance,
            retention_days=30,
        )
    return event.id


async def make_attendee(engine: AsyncEngine, event_id: int, name: str = "alice") -> int:
    async with engine.begin() as conn:
        attendee = await repository.create_attendee(
            conn=conn, event_id=event_id, username=name, username_key=name, password_hash="h"
        )
    return attendee.id


async def test_second_organizer_with_the_same_email_is_refused(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        first = await repository.create_organizer(conn=conn, email="a@b.io", password_hash="h1")
    with pytest.raises(AlreadyExists) as refused:
        async with engine.begin() as conn:
            await repository.create_organizer(conn=conn, email="a@b.io", password_hash="h2")
    assert refused.value.reason == "email_taken"
    async with engine.connect() as conn:
        credentials = await repository.organizer_credentials(conn=conn, email="a@b.io")
        missing = await repository.organizer_credentials(conn=conn, email="x@b.io")
    assert (credentials.found, credentials.subject_id, credentials.password_hash) == (
        True,
        first,
        "h1",
    )
    assert (missing.found, missing.password_hash) == (False, "")


async def test_events_get_distinct_well_formed_codes(
    engine: AsyncEngine, organizer_id: int
) -> None:
    async with engine.begin() as conn:
        events = [
            await repository.create_event(
                conn=conn,
                organizer_id=organizer_id,
                name=f"e{i}",
                match_tolerance=0.6,
                retention_days=30,
            )
            for i in range(200)
        ]
    assert len({event.code for event in events}) == 200
    assert all(codes.normalize(event.code) == event.code for event in events)
    async with engine.connect() as conn:
        found = await repository.event_by_code(conn=conn, code=events[7].code)
    assert found == events[7]


async def test_code_collision_is_retried(
    engine: AsyncEngine, organizer_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    await make_event(engine, organizer_id)
    async with engine.connect() as conn:
        taken = (await conn.execute(text("SELECT code FROM events"))).scalar_one()
    candidates = iter([taken, taken, "ABCDEFGH"])
    monkeypatch.setattr(codes, "generate", lambda: next(candidates))
    async with engine.begin() as conn:
        event = await repository.create_event(
            conn=conn, organizer_id=organizer_id, name="n", match_tolerance=0.6, retention_days=1
        )
    assert event.code == "ABCDEFGH"


async def test_event_of_unknown_organizer_is_refused(engine: AsyncEngine) -> None:
    with pytest.raises(NotFound) as refused:
        await make_event(engine, 424242)
    assert refused.value.reason == "organizer_not_found"


async def test_attendee_username_is_unique_per_event(
    engine: AsyncEngine, organizer_id: int
) -> None:
    first_event = await make_event(engine, organizer_id)
    second_event = await make_event(engine, organizer_id)
    await make_attendee(engine, first_event)
    with pytest.raises(AlreadyExists) as refused:
        await make_attendee(engine, first_event)
    assert refused.value.reason == "username_taken"
    # The same name in another event is a different account.
    await make_attendee(engine, second_event)
    async with engine.connect() as conn:
        assert await repository.username_taken(
            conn=conn, event_id=first_event, username_key="alice"
        )
        assert not await repository.username_taken(
            conn=conn, event_id=first_event, username_key="bob"
        )


async def test_attendee_of_a_vanished_event_is_event_not_found(engine: AsyncEngine) -> None:
    with pytest.raises(NotFound) as refused:
        await make_attendee(engine, 987654)
    assert refused.value.reason == "event_not_found"


async def test_password_hash_updates(engine: AsyncEngine, organizer_id: int) -> None:
    event_id = await make_event(engine, organizer_id)
    attendee_id = await make_attendee(engine, event_id)
    async with engine.begin() as conn:
        await repository.update_attendee_password_hash(
            conn=conn, attendee_id=attendee_id, password_hash="new"
        )
        await repository.update_organizer_password_hash(
            conn=conn, organizer_id=organizer_id, password_hash="new-o"
        )
    async with engine.connect() as conn:
        attendee = await repository.attendee_credentials(
            conn=conn, event_id=event_id, username_key="alice"
        )
        organizer = await repository.organizer_credentials(conn=conn, email="o@example.com")
    assert (attendee.found, attendee.subject_id, attendee.password_hash) == (
        True,
        attendee_id,
        "new",
    )
    assert attendee.account == "alice"
    assert organizer.password_hash == "new-o"
    with pytest.raises(NotFound):
        async with engine.begin() as conn:
            await repository.update_attendee_password_hash(
                conn=conn, attendee_id=attendee_id + 100, password_hash="x"
            )


# -- matching ------------------------------------------------------------------------


def unit(rng: np.random.Generator) -> np.ndarray:
    vector = rng.normal(size=128)
    return vector / np.linalg.norm(vector)


def at_distance(rng: np.random.Generator, origin: np.ndarray, distance: float) -> list[float]:
    """A vector exactly ``distance`` (Euclidean) away from ``origin``."""
    return [float(v) for v in origin + unit(rng) * distance]


async def add_photo(engine: AsyncEngine, event_id: int, faces: list[list[float]]) -> tuple:
    async with engine.begin() as conn:
        photo_id = (
            await conn.execute(
                text(
                    "INSERT INTO photos (event_id, status, storage_key, content_hash) "
                    "VALUES (:event, 'done', 'k', md5(random()::text)) RETURNING id"
                ),
                {"event": event_id},
            )
        ).scalar_one()
        face_ids = [
            (
                await conn.execute(
                    text(
                        'INSERT INTO faces (photo_id, event_id, top, "right", bottom, "left", '
                        "encoding) VALUES (:photo, :event, 0, 1, 1, 0, CAST(:enc AS vector)) "
                        "RETURNING id"
                    ),
                    {"photo": photo_id, "event": event_id, "enc": str(face)},
                )
            ).scalar_one()
            for face in faces
        ]
    return photo_id, face_ids


async def matches_of(engine: AsyncEngine, attendee_id: int) -> dict[int, tuple[int, float]]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT photo_id, face_id, distance FROM matches WHERE attendee_id = :a"),
            {"a": attendee_id},
        )
        return {row.photo_id: (row.face_id, row.distance) for row in rows}


async def save(engine: AsyncEngine, attendee_id: int, encoding: np.ndarray, jpeg: bytes) -> int:
    async with engine.begin() as conn:
        return await repository.save_selfie(
            conn=conn,
            attendee_id=attendee_id,
            jpeg=jpeg,
            encoding=[float(v) for v in encoding],
            face=BOX,
        )


async def test_selfie_matches_the_closest_face_per_photo_within_tolerance(
    engine: AsyncEngine, organizer_id: int
) -> None:
    rng = np.random.default_rng(7)
    me = unit(rng)
    event_id = await make_event(engine, organizer_id, tolerance=0.6)
    other_event = await make_event(engine, organizer_id, tolerance=0.6)
    attendee_id = await make_attendee(engine, event_id)

    group, (far_in_group, near_in_group) = await add_photo(
        engine, event_id, [at_distance(rng, me, 0.5), at_distance(rng, me, 0.3)]
    )
    solo, (solo_face,) = await add_photo(engine, event_id, [at_distance(rng, me, 0.55)])
    stranger, _ = await add_photo(engine, event_id, [at_distance(rng, me, 0.7)])
    elsewhere, _ = await add_photo(engine, other_event, [at_distance(rng, me, 0.1)])

    assert await save(engine, attendee_id, me, b"\xff\xd8first") == 2
    found = await matches_of(engine, attendee_id)
    assert set(found) == {group, solo}
    assert found[group][0] == near_in_group
    assert found[group][1] == pytest.approx(0.3, abs=1e-4)
    assert found[solo] == (solo_face, pytest.approx(0.55, abs=1e-4))
    assert stranger not in found and elsewhere not in found
    assert far_in_group != near_in_group

    # A new selfie replaces the matches instead of adding to them.
    stranger_face_vector = np.array((await _face_vector(engine, stranger)), dtype=float)
    assert await save(engine, attendee_id, stranger_face_vector, b"\xff\xd8second") == 1
    assert set(await matches_of(engine, attendee_id)) == {stranger}
    async with engine.connect() as conn:
        selfie = (
            await conn.execute(
                text(
                    "SELECT count(*) AS n, max(stored_bytes) AS size, "
                    "bool_and(consented_at IS NOT NULL) AS consented "
                    "FROM selfies WHERE attendee_id = :a"
                ),
                {"a": attendee_id},
            )
        ).one()
    assert (selfie.n, selfie.size, selfie.consented) == (1, len(b"\xff\xd8second"), True)


async def _face_vector(engine: AsyncEngine, photo_id: int) -> list[float]:
    async with engine.connect() as conn:
        raw = (
            await conn.execute(
                text("SELECT encoding::text FROM faces WHERE photo_id = :p"), {"p": photo_id}
            )
        ).scalar_one()
    return [float(v) for v in raw.strip("[]").split(",")]


async def test_event_tolerance_is_respected(engine: AsyncEngine, organizer_id: int) -> None:
    rng = np.random.default_rng(11)
    me = unit(rng)
    strict_event = await make_event(engine, organizer_id, tolerance=0.4)
    attendee_id = await make_attendee(engine, strict_event)
    await add_photo(engine, strict_event, [at_distance(rng, me, 0.45)])
    near, _ = await add_photo(engine, strict_event, [at_distance(rng, me, 0.35)])
    assert await save(engine, attendee_id, me, b"jpeg") == 1
    assert set(await matches_of(engine, attendee_id)) == {near}


async def test_selfie_of_unknown_attendee_is_refused(engine: AsyncEngine) -> None:
    with pytest.raises(NotFound) as refused:
        await save(engine, 31337, np.zeros(128), b"jpeg")
    assert refused.value.reason == "attendee_not_found"


# -- query plans ---------------------------------------------------------------------


def literal_sql(statement: object) -> str:
    return str(
        statement.compile(  # type: ignore[attr-defined]
            dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}
        )
    )


async def test_lookups_use_their_indexes(engine: AsyncEngine, organizer_id: int) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO events (organizer_id, name, code, match_tolerance, retention_days) "
                "SELECT :o, 'e' || i, upper(substr(md5(i::text), 1, 8)), 0.6, 30 "
                "FROM generate_series(1, 5000) AS i"
            ),
            {"o": organizer_id},
        )
        await conn.execute(
            text(
                "INSERT INTO attendees (event_id, username, username_key, password_hash) "
                "SELECT e.id, 'user' || i, 'user' || i, 'h' FROM events e "
                "CROSS JOIN generate_series(1, 10) AS i"
            )
        )
        code = (await conn.execute(text("SELECT code FROM events LIMIT 1"))).scalar_one()
        event_id = (await conn.execute(text("SELECT max(id) FROM events"))).scalar_one()
    autocommit = await engine.connect()
    try:
        conn = await autocommit.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text("VACUUM ANALYZE events"))
        await conn.execute(text("VACUUM ANALYZE attendees"))
        plans = {}
        for name, statement in (
            ("event_by_code", repository.event_by_code_query(code)),
            ("availability", repository.availability_query(event_id, "user3")),
        ):
            rows = await conn.execute(text("EXPLAIN " + literal_sql(statement)))
            plans[name] = "\n".join(row[0] for row in rows)
    finally:
        await autocommit.close()
    assert "Index Scan using uq_events_code" in plans["event_by_code"], plans
    assert "Index Only Scan using uq_attendees_event_id_username_key" in plans["availability"], (
        plans
    )
    assert "Seq Scan" not in plans["event_by_code"] + plans["availability"]
