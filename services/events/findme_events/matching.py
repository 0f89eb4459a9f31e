"""The matching rule, both directions, in one place.

An attendee is represented by references: the encoding of each of their selfies
(up to three) and of each face they confirmed ("that's me"). Their distance to a
face is the Euclidean distance to the closest reference (pgvector ``<->``, encodings
bound as typed vectors); a face they confirmed is at 0, a face they rejected ("not
me") is never theirs again.

Tiers, per (attendee, face), with the event's tolerance and maybe bound:

- **sure**: distance <= tolerance, and the attendee is the closest of every attendee
  within tolerance of the face, or at most ``SAME_PERSON_DISTANCE`` from it (one
  face, one person: a face goes to the closest attendee; another keeps it only when
  they are much closer to it than strangers ever come, e.g. the same person twice);
- **maybe**: tolerance < distance <= maybe bound, nobody is within tolerance of the
  face, and the face is not closer to one of the attendee's rejected faces than to
  their references (a lookalike already answered "not me").

Each (attendee, photo) gets its best face: a match when one is sure, else at most
one suggestion. Nobody sees another's suggestions.

Every (reference, face) pair within the maybe bound is stored (``nearby_faces``)
when either side appears, each with one scan: a reference against the event's faces
(``add_reference``), a new photo's faces against the event's references
(``pair_photo``). The tiers of the photos concerned are then re-derived from the
pairs for every attendee at once (``settle``), in one statement that deletes,
inserts and updates only what changed, so matches that stay keep their time.

Every change holds the event's row lock (``lock_event``), so the tiers of an event
are always derived from one consistent set of pairs and answers, whatever the order
in which selfies, photos and answers arrive.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Final

from pgvector.sqlalchemy import Vector
from sqlalchemy import (
    ARRAY,
    BigInteger,
    CompoundSelect,
    Double,
    Select,
    and_,
    any_,
    bindparam,
    case,
    delete,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    union,
    union_all,
)
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import BindParameter, ColumnElement

from findme_events.models import (
    ENCODING_DIMENSIONS,
    Event,
    Face,
    FaceAnswer,
    FaceReference,
    Match,
    NearbyFace,
    Photo,
    Suggestion,
)

# One face, one person: an attendee who is not the closest still keeps a face this
# near. Measured with bench.tolerance on labelled faces: the closest strangers are
# 0.590 apart and no different-person pair comes within 0.59; at tolerance 0.60 the
# rule lifts the sure tier's precision from 0.959 to 0.992 (0.65: 0.870 to 0.992)
# for the same recall, and any bound from 0 to 0.45 does the same there; 0.40 stays
# far below every stranger pair.
SAME_PERSON_DISTANCE: Final = 0.40

SURE, MAYBE = 1, 2
PAIR_COLUMNS = ["reference_id", "face_id", "attendee_id", "photo_id", "distance"]
TIER_COLUMNS = ["attendee_id", "photo_id", "face_id", "distance"]
PhotoIds = ARRAY(BigInteger)


@dataclass(frozen=True, slots=True)
class Bounds:
    """An event's tolerance and maybe bound (never below the tolerance)."""

    tolerance: float
    maybe: float

    @classmethod
    def of(cls, tolerance: float, maybe: float) -> Bounds:
        return cls(tolerance=tolerance, maybe=max(tolerance, maybe))


def lock_event_query(event_id: int) -> Select[float, float]:
    # FOR NO KEY UPDATE: matching in one event is serial, while attendees and photos
    # can still be added (their foreign keys take KEY SHARE, which this allows).
    return (
        select(Event.match_tolerance, Event.maybe_tolerance)
        .where(Event.id == event_id)
        .with_for_update(key_share=True)
    )


async def lock_event(conn: AsyncConnection, event_id: int) -> Bounds | None:
    """Take the event's matching lock for this transaction; its bounds, or None when
    the event is gone."""
    row = (await conn.execute(lock_event_query(event_id))).one_or_none()
    return None if row is None else Bounds.of(row.match_tolerance, row.maybe_tolerance)


# -- pairs -----------------------------------------------------------------------------


def reference_pairs_query(
    *, reference_id: int, attendee_id: int, event_id: int, encoding: list[float], bound: float
) -> Select[Any]:
    """Every face of the event within ``bound`` of the reference's ``encoding`` (bound
    as a constant: one distance per face, as cheap as the bare scan)."""
    probe = bindparam("probe", encoding, type_=Vector(ENCODING_DIMENSIONS))
    distance = Face.encoding.l2_distance(probe)
    return select(
        literal(reference_id), Face.id, literal(attendee_id), Face.photo_id, distance
    ).where(Face.event_id == event_id, distance <= bound)


async def add_reference(
    conn: AsyncConnection,
    *,
    attendee_id: int,
    event_id: int,
    bounds: Bounds,
    encoding: list[float] | None = None,
    selfie_id: int | None = None,
    face_id: int | None = None,
) -> int | None:
    """A new reference (a selfie's ``encoding``, or the confirmed face ``face_id``)
    and its pairs; its id, or None when that face is already a reference."""
    if face_id is not None:
        source = select(literal(attendee_id), literal(event_id), Face.id, Face.encoding).where(
            Face.id == face_id, Face.event_id == event_id
        )
        statement = (
            pg_insert(FaceReference)
            .from_select(["attendee_id", "event_id", "face_id", "encoding"], source)
            .on_conflict_do_nothing(
                index_elements=[FaceReference.attendee_id, FaceReference.face_id]
            )
        )
    else:
        statement = pg_insert(FaceReference).values(
            attendee_id=attendee_id, event_id=event_id, selfie_id=selfie_id, encoding=encoding
        )
    row = (
        await conn.execute(statement.returning(FaceReference.id, FaceReference.encoding))
    ).one_or_none()
    if row is None:
        return None
    pairs = reference_pairs_query(
        reference_id=row.id,
        attendee_id=attendee_id,
        event_id=event_id,
        encoding=[float(v) for v in row.encoding],
        bound=bounds.maybe,
    )
    await conn.execute(insert(NearbyFace).from_select(PAIR_COLUMNS, pairs))
    return int(row.id)


def photo_pairs_query(*, event_id: int, photo_id: int, bound: float) -> Select[Any]:
    """Every reference of the event within ``bound`` of a face of the photo."""
    distance = Face.encoding.l2_distance(FaceReference.encoding)
    return (
        select(FaceReference.id, Face.id, FaceReference.attendee_id, Face.photo_id, distance)
        .select_from(Face)
        .join(FaceReference, and_(FaceReference.event_id == event_id, distance <= bound))
        .where(Face.photo_id == photo_id)
    )


async def pair_photo(
    conn: AsyncConnection, *, event_id: int, photo_id: int, bounds: Bounds
) -> None:
    """Pairs for the photo's faces (those already paired are kept)."""
    pairs = photo_pairs_query(event_id=event_id, photo_id=photo_id, bound=bounds.maybe)
    await conn.execute(
        pg_insert(NearbyFace)
        .from_select(PAIR_COLUMNS, pairs)
        .on_conflict_do_nothing(index_elements=[NearbyFace.reference_id, NearbyFace.face_id])
    )


# -- tiers -----------------------------------------------------------------------------


def attendee_photos_query(attendee_id: int) -> CompoundSelect[int]:
    """Photos where the attendee's tiers may change when their references or answers
    do: near one of their references, answered, matched or suggested."""
    return union(
        select(NearbyFace.photo_id).where(NearbyFace.attendee_id == attendee_id),
        select(FaceAnswer.photo_id).where(FaceAnswer.attendee_id == attendee_id),
        select(Match.photo_id).where(Match.attendee_id == attendee_id),
        select(Suggestion.photo_id).where(Suggestion.attendee_id == attendee_id),
    )


async def attendee_photos(conn: AsyncConnection, attendee_id: int) -> set[int]:
    return set((await conn.execute(attendee_photos_query(attendee_id))).scalars())


def claims_query(photos: Any) -> Select[Any]:
    """Each attendee's distance to each face of the photos: the closest of their
    pairs, 0 for a face they confirmed, none for a face they rejected."""
    pairs = select(
        NearbyFace.attendee_id, NearbyFace.face_id, NearbyFace.photo_id, NearbyFace.distance
    ).where(NearbyFace.photo_id == any_(photos))
    confirmed = select(
        FaceAnswer.attendee_id,
        FaceAnswer.face_id,
        FaceAnswer.photo_id,
        literal(0.0).label("distance"),
    ).where(FaceAnswer.answer == "me", FaceAnswer.photo_id == any_(photos))
    claim = union_all(pairs, confirmed).subquery("claim")
    rejected = exists().where(
        FaceAnswer.attendee_id == claim.c.attendee_id,
        FaceAnswer.face_id == claim.c.face_id,
        FaceAnswer.answer == "not_me",
        # Implied by the face; lets the planner read only these photos' answers.
        FaceAnswer.photo_id == any_(photos),
    )
    return (
        select(
            claim.c.attendee_id,
            claim.c.face_id,
            claim.c.photo_id,
            func.min(claim.c.distance).label("distance"),
        )
        .where(~rejected)
        .group_by(claim.c.attendee_id, claim.c.face_id, claim.c.photo_id)
    )


def best_query(photos: Any, tolerance: Any, maybe: Any) -> Select[Any]:
    """Per (attendee, photo) of the photos: the best face and its tier (SURE or MAYBE)."""
    claims = claims_query(photos).cte("claims")
    within = claims.c.distance <= tolerance
    ranked = select(
        claims,
        func.min(claims.c.distance)
        .filter(within)
        .over(partition_by=claims.c.face_id)
        .label("closest"),
        func.count().filter(within).over(partition_by=claims.c.face_id).label("claimants"),
    ).cte("ranked")
    face, rejected_face = aliased(Face), aliased(Face)
    lookalike = exists().where(
        FaceAnswer.attendee_id == ranked.c.attendee_id,
        FaceAnswer.answer == "not_me",
        rejected_face.id == FaceAnswer.face_id,
        face.id == ranked.c.face_id,
        face.encoding.l2_distance(rejected_face.encoding) < ranked.c.distance,
    )
    sure = and_(
        ranked.c.distance <= tolerance,
        or_(ranked.c.distance <= ranked.c.closest, ranked.c.distance <= SAME_PERSON_DISTANCE),
    )
    maybe = and_(
        ranked.c.distance > tolerance,
        ranked.c.distance <= maybe,
        ranked.c.claimants == 0,
        ~lookalike,
    )
    # CASE decides in order: the lookalike probe runs only for faces in the maybe band.
    tier = case((sure, SURE), (maybe, MAYBE)).label("tier")
    # Materialized: each row's tier (and lookalike probe) is computed once, not again
    # for the sort.
    tiered = (
        select(ranked.c.attendee_id, ranked.c.photo_id, ranked.c.face_id, ranked.c.distance, tier)
        .cte("tiered")
        .prefix_with("MATERIALIZED")
    )
    return (
        select(tiered)
        .where(tiered.c.tier.is_not(None))
        .ext(distinct_on(tiered.c.attendee_id, tiered.c.photo_id))
        .order_by(
            tiered.c.attendee_id,
            tiered.c.photo_id,
            tiered.c.tier,
            tiered.c.distance,
            tiered.c.face_id,
        )
    )


def _rewrite(
    table: type[Match] | type[Suggestion], best: Any, tier: int, photos: Any
) -> tuple[Any, Any]:
    """(delete, upsert) of ``table``'s rows of the photos to ``best``'s rows of ``tier``;
    rows that stay keep their id and time."""
    wanted = exists().where(
        best.c.attendee_id == table.attendee_id,
        best.c.photo_id == table.photo_id,
        best.c.tier == tier,
    )
    drop = (
        delete(table)
        .where(table.photo_id == any_(photos), ~wanted)
        .returning(table.id)
        .cte(f"drop_{table.__tablename__}")
    )
    rows = select(best.c.attendee_id, best.c.photo_id, best.c.face_id, best.c.distance).where(
        best.c.tier == tier
    )
    upsert = pg_insert(table).from_select(TIER_COLUMNS, rows)
    upsert = upsert.on_conflict_do_update(
        index_elements=[table.attendee_id, table.photo_id],
        set_={"face_id": upsert.excluded.face_id, "distance": upsert.excluded.distance},
        where=or_(
            table.face_id != upsert.excluded.face_id, table.distance != upsert.excluded.distance
        ),
    )
    return drop, upsert.returning(table.id).cte(f"put_{table.__tablename__}")


@functools.cache
def _settle_statement() -> Select[Any]:
    """The settle statement, built once: its photos and bounds are parameters."""
    photos = bindparam("photos", type_=PhotoIds)
    tolerance: BindParameter[float] = bindparam("tolerance", type_=Double())
    maybe: BindParameter[float] = bindparam("maybe", type_=Double())
    best = best_query(photos, tolerance, maybe).cte("best")
    statements = [
        *_rewrite(Match, best, SURE, photos),
        *_rewrite(Suggestion, best, MAYBE, photos),
    ]
    changed: ColumnElement[Any] = literal(0)
    for statement in statements:
        changed = changed + select(func.count()).select_from(statement).scalar_subquery()
    return select(changed.label("changed")).add_cte(*statements)


def _settle_parameters(photo_ids: Iterable[int], bounds: Bounds) -> dict[str, Any]:
    return {
        "photos": sorted(set(photo_ids)),
        "tolerance": bounds.tolerance,
        "maybe": bounds.maybe,
    }


def settle_query(photo_ids: Iterable[int], bounds: Bounds) -> Select[Any]:
    """One statement: the photos' matches and suggestions rewritten to their tiers.
    (Data-modifying CTEs see one snapshot; the rows they delete and the rows they
    write are disjoint.) Built once; this copy carries its parameters."""
    return _settle_statement().params(_settle_parameters(photo_ids, bounds))


async def settle(conn: AsyncConnection, *, photo_ids: Iterable[int], bounds: Bounds) -> int:
    """Re-derive the matches and suggestions of these photos, for every attendee;
    the number of rows deleted, inserted or changed. Hold the event's lock."""
    photos = set(photo_ids)
    if not photos:
        return 0
    result = await conn.execute(_settle_statement(), _settle_parameters(photos, bounds))
    return int(result.scalar_one())


@asynccontextmanager
async def attendee_change(
    conn: AsyncConnection, *, attendee_id: int, bounds: Bounds
) -> AsyncIterator[None]:
    """Around a change of the attendee's references or answers: afterwards, every
    photo where their tiers were or now are is settled (for them and for whoever
    else is near those faces: one face, one person)."""
    before = await attendee_photos(conn, attendee_id)
    yield
    after = await attendee_photos(conn, attendee_id)
    await settle(conn, photo_ids=before | after, bounds=bounds)


async def match_photo(
    conn: AsyncConnection, *, event_id: int, photo_id: int, bounds: Bounds
) -> int:
    """Pair the photo's (stored) faces with the event's references and settle it; the
    number of attendees matched to it. Hold the event's lock."""
    await pair_photo(conn, event_id=event_id, photo_id=photo_id, bounds=bounds)
    await settle(conn, photo_ids=[photo_id], bounds=bounds)
    return int(
        (await conn.execute(select(func.count()).where(Match.photo_id == photo_id))).scalar_one()
    )


def event_pairs_query(*, event_id: int, bound: float) -> Select[Any]:
    """Every (reference, face) pair of the event within ``bound``."""
    distance = Face.encoding.l2_distance(FaceReference.encoding)
    return (
        select(FaceReference.id, Face.id, FaceReference.attendee_id, Face.photo_id, distance)
        .select_from(Face)
        .join(FaceReference, and_(FaceReference.event_id == event_id, distance <= bound))
        .where(Face.event_id == event_id)
    )


async def rematch_event(conn: AsyncConnection, *, event_id: int) -> tuple[int, int] | None:
    """Every photo of the event settled again at its current bounds (after the bounds
    changed): pairs missing within the maybe bound are added, then the tiers of all
    its photos re-derived. (references, matches) of the event, or None when it is gone.
    Takes the event's lock."""
    bounds = await lock_event(conn, event_id)
    if bounds is None:
        return None
    await conn.execute(
        pg_insert(NearbyFace)
        .from_select(PAIR_COLUMNS, event_pairs_query(event_id=event_id, bound=bounds.maybe))
        .on_conflict_do_nothing(index_elements=[NearbyFace.reference_id, NearbyFace.face_id])
    )
    photo_ids = (await conn.execute(select(Photo.id).where(Photo.event_id == event_id))).scalars()
    await settle(conn, photo_ids=photo_ids, bounds=bounds)
    references = select(func.count()).where(FaceReference.event_id == event_id)
    matches = (
        select(func.count())
        .select_from(Match)
        .join(Photo, Photo.id == Match.photo_id)
        .where(Photo.event_id == event_id)
    )
    return (
        int((await conn.execute(references)).scalar_one()),
        int((await conn.execute(matches)).scalar_one()),
    )


def matched_photos_query(attendee_id: int) -> Select[int]:
    return select(func.count()).where(Match.attendee_id == attendee_id)


async def matched_photos(conn: AsyncConnection, attendee_id: int) -> int:
    return int((await conn.execute(matched_photos_query(attendee_id))).scalar_one())
