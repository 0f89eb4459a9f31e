"""Face matching at scale, on real PostgreSQL + pgvector with synthetic encodings.

    python -m bench.matching [--quick] [--faces 100000] [--attendees 10000] [--runs 30]

1. A new selfie for an attendee with 3 selfies and 10 confirmed faces (13
   references) against an event of --faces faces: the whole SaveSelfie
   transaction as the events service runs it (lock, replace the selfies and their
   references, pair the new one with every face of the event, settle the photos
   where the attendee's tiers were or are). Target p95 < 100 ms.
2. A newly analysed photo (5 faces) against --attendees attendees with 5
   references each: the worker's store transaction (fence the claim, lock the
   event, insert the faces, pair them with every reference, settle, mark done).
   Target p95 < 100 ms.

Each run is rolled back, so every run starts from the same state. Beside each, the
bare pgvector scan it cannot avoid (the same distances, nothing else) is timed in
the same run: the ratio says what the rule costs on top of the scan, whatever the
machine's load.

Encodings: 128 values uniform in +-0.095 (different people ~0.9 apart, like
face_recognition's), plus planted near-duplicates (0.1-0.45 away) so the matching
work and the result sizes look like a real event. Without DATABASE_URL it starts an
embedded PostgreSQL in a temporary folder. Prints p50/p95 and the query plans
(EXPLAIN ANALYZE) with the indexes used.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import numpy as np
from findme_events import matching, migrate
from findme_events.config import EventsSettings, async_database_url
from findme_events.models import Face
from findme_events.schemas import ClaimedPhoto, DetectedFace, FaceBox
from findme_events.store import photo_queue
from findme_events.usecases.selfies import store_and_match
from pgvector.sqlalchemy import Vector
from sqlalchemy import bindparam, func, insert, select, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.sql import Executable

# The service's own defaults, so the plans and timings are the ones it runs.
_DEFAULTS = EventsSettings.model_fields
TOLERANCE = float(_DEFAULTS["default_match_tolerance"].default)
MAYBE = float(_DEFAULTS["default_maybe_tolerance"].default)
BOUNDS = matching.Bounds.of(TOLERANCE, MAYBE)
SPREAD = 0.095
BOX = FaceBox(top=0, right=1, bottom=1, left=0)
WARMUP_RUNS = 2
SELFIES, CONFIRMED, REFERENCES_EACH = 3, 10, 5


def random_vector_sql(row_key: str, spread: float = SPREAD) -> str:
    """A fresh random vector per row: uniform in +-spread per dimension. The subquery
    refers to ``row_key`` (unique per row) so PostgreSQL re-runs it for every row."""
    return (
        f"(SELECT array_agg(((random() - 0.5) * {2 * spread})::real) "
        f"FROM generate_series(1, 128) WHERE {row_key} IS NOT NULL)::vector"
    )


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def random_vector(rng: np.random.Generator) -> np.ndarray:
    return rng.uniform(-SPREAD, SPREAD, 128)


def near(vector: np.ndarray, distance: float, rng: np.random.Generator) -> list[float]:
    step = rng.normal(size=128)
    return [float(v) for v in vector + distance * step / np.linalg.norm(step)]


def literal(vector: list[float]) -> str:
    return "[" + ",".join(f"{v:.6f}" for v in vector) + "]"


async def fresh_database(server_url: str) -> str:
    import asyncpg

    name = f"bench_{uuid.uuid4().hex[:8]}"
    head, _, query = server_url.partition("?")
    admin = head.rsplit("/", 1)[0] + "/postgres" + (f"?{query}" if query else "")
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    url = head.rsplit("/", 1)[0] + f"/{name}" + (f"?{query}" if query else "")
    await migrate.upgrade(url)
    return url


async def make_event(engine: AsyncEngine, name: str) -> int:
    async with engine.begin() as conn:
        organizer = (
            await conn.execute(
                text("INSERT INTO organizers (email, password_hash) VALUES (:e, 'h') RETURNING id"),
                {"e": f"{name}-{uuid.uuid4().hex[:6]}@bench.example"},
            )
        ).scalar_one()
        return int(
            (
                await conn.execute(
                    text(
                        "INSERT INTO events (organizer_id, name, code, match_tolerance, "
                        "maybe_tolerance, retention_days) VALUES (:o, :n, "
                        "upper(substr(md5(random()::text), 1, 8)), :t, :m, 30) RETURNING id"
                    ),
                    {"o": organizer, "n": name, "t": TOLERANCE, "m": MAYBE},
                )
            ).scalar_one()
        )


async def analyze(engine: AsyncEngine) -> None:
    conn = await engine.connect()
    try:
        autocommit = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await autocommit.execute(text("VACUUM ANALYZE"))
    finally:
        await conn.close()


async def explain(engine: AsyncEngine, statement: Executable) -> str:
    """The plan of one of the service's own statements, with its real parameters."""
    sql = str(
        statement.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})
    )
    async with engine.connect() as conn:
        rows = await conn.execute(text("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) " + sql))
        # The 128 numbers of a probe vector say nothing; keep the plan readable.
        lines = [re.sub(r"'\[[^\]]{40,}\]'", "'[128-d probe]'", row[0]) for row in rows]
        await conn.rollback()
    return "\n".join("    " + line for line in lines)


async def timed_runs(
    engine: AsyncEngine,
    runs: int,
    work: Callable[[AsyncConnection], Awaitable[int]],
    scan: Callable[[AsyncConnection], Awaitable[Any]],
) -> dict[str, Any]:
    """``work`` and then the bare ``scan`` in turn, each in a transaction rolled back
    afterwards (every run starts from the same state); times in ms."""
    timings: list[float] = []
    scans: list[float] = []
    result = 0
    for run in range(WARMUP_RUNS + runs):
        for label, step in (("work", work), ("scan", scan)):
            conn = await engine.connect()
            try:
                await conn.begin()
                begin = time.perf_counter()
                outcome = await step(conn)
                elapsed = (time.perf_counter() - begin) * 1000
            finally:
                await conn.rollback()
                await conn.close()
            if run < WARMUP_RUNS:  # the first runs pay for cold caches
                continue
            if label == "work":
                timings.append(elapsed)
                result = int(outcome)
            else:
                scans.append(elapsed)
    return {"timings": timings, "scans": scans, "matches": result}


# -- 1. selfie vs N faces ----------------------------------------------------------------


async def selfie_vs_faces(engine: AsyncEngine, faces: int, runs: int) -> dict[str, Any]:
    rng = np.random.default_rng(1)
    event_id = await make_event(engine, "selfie-bench")
    per_photo = 5
    started = time.perf_counter()
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO photos (event_id, status, storage_key, content_hash) "
                "SELECT :e, 'done', 'k', md5(g::text) FROM generate_series(1, :n) AS g"
            ),
            {"e": event_id, "n": faces // per_photo},
        )
        await conn.execute(
            text(
                'INSERT INTO faces (photo_id, event_id, top, "right", bottom, "left", encoding) '
                f"SELECT p.id, p.event_id, 0, 1, 1, 0, {random_vector_sql('(p.id, g)')} "
                "FROM photos p CROSS JOIN generate_series(1, :k) AS g WHERE p.event_id = :e"
            ),
            {"e": event_id, "k": per_photo},
        )
        # The attendee appears in 200 photos (one face each, 0.2-0.45 away).
        attendee_face = random_vector(rng)
        photo_ids = list(
            (
                await conn.execute(
                    text("SELECT id FROM photos WHERE event_id = :e ORDER BY random() LIMIT 200"),
                    {"e": event_id},
                )
            ).scalars()
        )
        await conn.execute(
            text(
                "UPDATE faces SET encoding = CAST(:v AS vector) WHERE id = ("
                "SELECT min(id) FROM faces WHERE photo_id = :p)"
            ),
            [
                {"p": pid, "v": literal(near(attendee_face, rng.uniform(0.2, 0.45), rng))}
                for pid in photo_ids
            ],
        )
        attendee_id = (
            await conn.execute(
                text(
                    "INSERT INTO attendees (event_id, username, username_key, password_hash) "
                    "VALUES (:e, 'star', 'star', 'h') RETURNING id"
                ),
                {"e": event_id},
            )
        ).scalar_one()
    # Three selfies and ten confirmed faces, through the service's own code.
    async with engine.begin() as conn:
        for index in range(SELFIES):
            await store_and_match(
                conn,
                attendee_id=attendee_id,
                jpeg=b"x" * 60_000,
                encoding=near(attendee_face, 0.1, rng),
                face=BOX,
                max_selfies=SELFIES,
                add=index > 0,
            )
        confirmed = (
            await conn.execute(
                text(
                    "SELECT min(f.id), min(f.photo_id) FROM faces f "
                    "WHERE f.photo_id = ANY(:p) GROUP BY f.photo_id LIMIT :n"
                ),
                {"p": photo_ids, "n": CONFIRMED},
            )
        ).all()
        async with matching.attendee_change(conn, attendee_id=attendee_id, bounds=BOUNDS):
            for face_id, photo_id in confirmed:
                await conn.execute(
                    text(
                        "INSERT INTO face_answers (attendee_id, face_id, photo_id, answer) "
                        "VALUES (:a, :f, :p, 'me')"
                    ),
                    {"a": attendee_id, "f": face_id, "p": photo_id},
                )
                await matching.add_reference(
                    conn,
                    attendee_id=attendee_id,
                    event_id=event_id,
                    bounds=BOUNDS,
                    face_id=face_id,
                )
    await analyze(engine)
    setup = time.perf_counter() - started

    selfie = near(attendee_face, 0.1, rng)
    probe = bindparam("probe", selfie, type_=Vector(128))
    bare_scan = select(func.count()).where(
        Face.event_id == event_id, Face.encoding.l2_distance(probe) <= BOUNDS.maybe
    )

    async def save(conn: AsyncConnection) -> int:
        saved = await store_and_match(
            conn,
            attendee_id=attendee_id,
            jpeg=b"x" * 60_000,
            encoding=selfie,
            face=BOX,
            max_selfies=SELFIES,
        )
        return saved.matches

    async def scan(conn: AsyncConnection) -> Any:
        return (await conn.execute(bare_scan)).scalar_one()

    result = await timed_runs(engine, runs, save, scan)
    async with engine.connect() as conn:
        references = (
            await conn.execute(
                text("SELECT count(*) FROM face_references WHERE attendee_id = :a"),
                {"a": attendee_id},
            )
        ).scalar_one()
    assert references == SELFIES + CONFIRMED, references
    result["plan"] = await explain(engine, bare_scan)
    result["setup"] = setup
    return result


# -- 2. photo vs N attendees -------------------------------------------------------------


async def photo_vs_attendees(engine: AsyncEngine, attendees: int, runs: int) -> dict[str, Any]:
    rng = np.random.default_rng(2)
    event_id = await make_event(engine, "photo-bench")
    started = time.perf_counter()

    def noise(key: str) -> str:  # ~0.1 from the attendee's own face
        return random_vector_sql(key, spread=0.015)

    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO attendees (event_id, username, username_key, password_hash) "
                "SELECT :e, 'u' || g, 'u' || g, 'h' FROM generate_series(1, :n) AS g"
            ),
            {"e": event_id, "n": attendees},
        )
        # Each attendee's own face, then 3 selfies near it and 2 confirmed faces near it
        # in an earlier photo of theirs: 5 references each.
        await conn.execute(
            text(
                "CREATE TEMPORARY TABLE own AS SELECT a.id, "
                f"{random_vector_sql('a.id')} AS face FROM attendees a WHERE a.event_id = :e"
            ),
            {"e": event_id},
        )
        await conn.execute(
            text(
                "INSERT INTO selfies (attendee_id, jpeg, encoding, face_top, face_right, "
                "face_bottom, face_left, stored_bytes, consented_at) "
                f"SELECT o.id, '\\x00', o.face + {noise('(o.id, g)')}, 0, 1, 1, 0, 1, now() "
                "FROM own o CROSS JOIN generate_series(1, 3) AS g"
            )
        )
        await conn.execute(
            text(
                "INSERT INTO photos (event_id, status, storage_key, content_hash) "
                "SELECT :e, 'done', 'k', 'earlier' || o.id FROM own o"
            ),
            {"e": event_id},
        )
        await conn.execute(
            text(
                'INSERT INTO faces (photo_id, event_id, top, "right", bottom, "left", encoding) '
                f"SELECT p.id, :e, 0, 1, 1, 0, o.face + {noise('(o.id, g)')} "
                "FROM own o JOIN photos p "
                "ON p.event_id = :e AND p.content_hash = 'earlier' || o.id "
                "CROSS JOIN generate_series(1, 2) AS g"
            ),
            {"e": event_id},
        )
        await conn.execute(
            text(
                "INSERT INTO face_references (attendee_id, event_id, selfie_id, encoding) "
                "SELECT s.attendee_id, :e, s.id, s.encoding FROM selfies s "
                "JOIN attendees a ON a.id = s.attendee_id WHERE a.event_id = :e"
            ),
            {"e": event_id},
        )
        await conn.execute(
            text(
                "INSERT INTO face_references (attendee_id, event_id, face_id, encoding) "
                "SELECT o.id, :e, f.id, f.encoding FROM own o "
                "JOIN photos p ON p.event_id = :e AND p.content_hash = 'earlier' || o.id "
                "JOIN faces f ON f.photo_id = p.id"
            ),
            {"e": event_id},
        )
        count = (
            await conn.execute(
                text("SELECT count(*) FROM face_references WHERE event_id = :e"), {"e": event_id}
            )
        ).scalar_one()
        assert count == attendees * REFERENCES_EACH, count
        known = [
            np.array([float(v) for v in s.strip("[]").split(",")])
            for s in (
                await conn.execute(text("SELECT face::text FROM own ORDER BY id LIMIT 2"))
            ).scalars()
        ]
        photo_id = (
            await conn.execute(
                text(
                    "INSERT INTO photos (event_id, status, storage_key, content_hash, attempts) "
                    "VALUES (:e, 'processing', 'k', 'bench', 1) RETURNING id"
                ),
                {"e": event_id},
            )
        ).scalar_one()
    await analyze(engine)
    setup = time.perf_counter() - started

    # Two attendees are in the photo; three faces are strangers.
    faces = [near(known[0], 0.3, rng), near(known[1], 0.4, rng)] + [
        [float(v) for v in random_vector(rng)] for _ in range(3)
    ]
    claimed = ClaimedPhoto(id=photo_id, event_id=event_id, storage_key="k", attempt=1)
    rows = [
        {"photo_id": photo_id, "event_id": event_id, "top": 0, "right": 1, "bottom": 1, "left": 0}
        | {"encoding": f}
        for f in faces
    ]
    bare_scan = matching.photo_pairs_query(event_id=event_id, photo_id=photo_id, bound=BOUNDS.maybe)

    async def complete(conn: AsyncConnection) -> int:
        found = await photo_queue.complete(
            conn=conn,
            photo=claimed,
            width=1,
            height=1,
            display_key="d",
            thumbnail_key="t",
            faces=[DetectedFace(box=BOX, encoding=f) for f in faces],
        )
        return found or 0

    async def scan(conn: AsyncConnection) -> Any:
        await conn.execute(insert(Face), rows)
        return len((await conn.execute(bare_scan)).all())

    result = await timed_runs(engine, runs, complete, scan)
    async with engine.begin() as conn:
        await conn.execute(insert(Face), rows)
    result["plan"] = await explain(engine, bare_scan)
    result["setup"] = setup
    return result


def report(title: str, result: dict[str, Any]) -> None:
    timings, scans = result["timings"], result["scans"]
    ratio = statistics.median(t / s for t, s in zip(timings, scans, strict=True))
    print(
        f"| {title} | {len(timings)} | {result['matches']} | "
        f"{percentile(timings, 0.5):.1f} | {percentile(timings, 0.95):.1f} | "
        f"{percentile(scans, 0.5):.1f} | {percentile(scans, 0.95):.1f} | {ratio:.2f} |"
    )


async def run(args: argparse.Namespace) -> None:
    server_url = os.environ.get("DATABASE_URL", "")
    folder = None
    embedded = None
    if not server_url:
        from findme_devstack.embedded import start_postgres

        folder = Path(tempfile.mkdtemp(prefix="findme-bench-"))
        folder.chmod(0o755)  # the server may run as an unprivileged user
        embedded = start_postgres(folder / "data")
        server_url = embedded.url("findme")
    engine = None
    try:
        url = await fresh_database(server_url)
        engine = create_async_engine(async_database_url(url))
        selfie = await selfie_vs_faces(engine, args.faces, args.runs)
        photo = await photo_vs_attendees(engine, args.attendees, args.runs)
    finally:
        if engine is not None:
            await engine.dispose()
        if embedded is not None:
            embedded.stop()
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)

    print()
    print(
        f"Face matching, pgvector exact search, tolerance {TOLERANCE}, maybe bound {MAYBE} "
        "(times in ms; 'scan' is the bare pgvector scan the case cannot avoid, same run)"
    )
    print()
    print("| case | runs | matches | p50 | p95 | scan p50 | scan p95 | median ratio to the scan |")
    print("|---|---|---|---|---|---|---|---|")
    report(
        f"new selfie, {SELFIES} selfies + {CONFIRMED} confirmed faces, "
        f"vs {args.faces:,} faces (SaveSelfie transaction)",
        selfie,
    )
    report(
        f"new photo (5 faces) vs {args.attendees:,} attendees x {REFERENCES_EACH} "
        "references (store transaction)",
        photo,
    )
    print()
    for name, result in (("selfie", selfie), ("photo", photo)):
        p95 = percentile(result["timings"], 0.95)
        verdict = "meets" if p95 < 100 else "MISSES"
        print(f"{name}: p95 {p95:.1f} ms {verdict} the 100 ms target")
    print(f"(setup: {selfie['setup']:.0f} s and {photo['setup']:.0f} s of synthetic data)")
    print()
    print("Plan, the selfie's scan of the event's faces (EXPLAIN ANALYZE):")
    print(selfie["plan"])
    print()
    print("Plan, the photo's faces against every reference of the event (EXPLAIN ANALYZE):")
    print(photo["plan"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--faces", type=int, default=100_000)
    parser.add_argument("--attendees", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--quick", action="store_true", help="10 runs (same data sizes)")
    args = parser.parse_args()
    if args.quick:
        args.runs = 10
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
