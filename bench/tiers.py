"""The two tiers and the people's answers, simulated on labelled encodings.

A model of the rule in ``services/events/findme_events/matching.py`` (the SQL is the
real thing; ``services/events/tests/test_matching.py`` holds it to the same cases):

- an attendee's distance to a face is the smallest over their references (selfies
  and faces they confirmed), faces they answered "not me" excluded;
- one face, one person: a face within tolerance of several attendees is sure only
  for the closest, and for any other whose distance is at most ``same_person``
  (much closer than strangers ever come);
- sure: distance <= tolerance (and the rule above); maybe: tolerance < distance <=
  maybe bound, nobody else sure of the face, and the face not closer to one of the
  attendee's "not me" faces than to their references.

Events are built from the labelled encodings: each person registers with one of
their encodings as the selfie (in turn, one round per encoding of the person with
the most), every other encoding is a face in its own photo. Pairs are (attendee,
face); a true pair is the person's own face. "Answering truthfully" means every
suggestion gets "that's me" (the face becomes a reference) or "not me" (it becomes
a negative), then the tiers are recomputed, until no new suggestion comes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

MAYBE_BOUNDS = (0.55, 0.60, 0.65, 0.70)
SAME_PERSON_BOUNDS = (None, 0.45, 0.40, 0.35, 0.0)
TOLERANCES = (0.50, 0.55, 0.60, 0.65)
# What the service uses (EventsSettings and matching.SAME_PERSON_DISTANCE).
TOLERANCE = 0.50
MAYBE = 0.55
SAME_PERSON = 0.40


@dataclass(frozen=True)
class Encoding:
    person: str
    vector: np.ndarray


@dataclass(frozen=True)
class Rule:
    tolerance: float
    maybe: float
    # None: every attendee within tolerance keeps the face (the rule off).
    same_person: float | None


@dataclass
class Attendee:
    person: str
    references: list[int]
    rejected: set[int] = field(default_factory=set)


@dataclass
class Event:
    attendees: list[Attendee]
    faces: list[int]


def events(people: Sequence[str], registered: Iterable[str]) -> list[Event]:
    """One event per round: each registered person's selfie is their next encoding."""
    joined = set(registered)
    by_person: dict[str, list[int]] = {}
    for index, person in enumerate(people):
        by_person.setdefault(person, []).append(index)
    rounds = max(len(indexes) for indexes in by_person.values())
    made = []
    for round_ in range(rounds):
        selfies = {
            person: indexes[round_ % len(indexes)]
            for person, indexes in sorted(by_person.items())
            if person in joined
        }
        attendees = [Attendee(person, [index]) for person, index in selfies.items()]
        faces = [i for i in range(len(people)) if i not in selfies.values()]
        made.append(Event(attendees, faces))
    return made


def tiers(
    event: Event, distances: np.ndarray, rule: Rule
) -> tuple[set[tuple[int, int]], set[tuple[int, int]]]:
    """(sure, maybe): sets of (attendee index, face index)."""
    sure: set[tuple[int, int]] = set()
    maybe: set[tuple[int, int]] = set()
    for face in event.faces:
        claims = {
            a: float(distances[attendee.references, face].min())
            for a, attendee in enumerate(event.attendees)
            if face not in attendee.rejected
        }
        within = {a: d for a, d in claims.items() if d <= rule.tolerance}
        for a, d in claims.items():
            rivals = [other for b, other in within.items() if b != a]
            rival = min(rivals) if rivals else None
            shared = rule.same_person is None or d <= rule.same_person
            if d <= rule.tolerance and (rival is None or d <= rival or shared):
                sure.add((a, face))
            elif rule.tolerance < d <= rule.maybe and rival is None:
                rejected = event.attendees[a].rejected
                if not any(distances[n, face] < d for n in rejected):
                    maybe.add((a, face))
    return sure, maybe


@dataclass
class Tally:
    true_pairs: int = 0
    sure_true: int = 0
    sure_false: int = 0
    maybe_true: int = 0
    maybe_false: int = 0
    final_true: int = 0
    final_false: int = 0
    asked: int = 0
    attendees: int = 0

    @staticmethod
    def ratio(part: int, whole: int) -> float:
        return part / whole if whole else 1.0

    def row(self) -> tuple[float, ...]:
        shown_true = self.sure_true + self.maybe_true
        shown = shown_true + self.sure_false + self.maybe_false
        return (
            self.ratio(self.sure_true, self.sure_true + self.sure_false),
            self.ratio(self.sure_true, self.true_pairs),
            self.ratio(shown_true, shown),
            self.ratio(shown_true, self.true_pairs),
            self.ratio(self.final_true, self.final_true + self.final_false),
            self.ratio(self.final_true, self.true_pairs),
        )


def simulate(
    people: Sequence[str], distances: np.ndarray, registered: Iterable[str], rule: Rule
) -> Tally:
    tally = Tally()
    registered = list(registered)
    for event in events(people, registered):
        attendee_people = [a.person for a in event.attendees]
        tally.attendees += len(attendee_people)
        tally.true_pairs += sum(people[f] in attendee_people for f in event.faces)
        sure, maybe = tiers(event, distances, rule)
        true = {(a, f) for a, f in sure | maybe if event.attendees[a].person == people[f]}
        tally.sure_true += len(sure & true)
        tally.sure_false += len(sure - true)
        tally.maybe_true += len(maybe & true)
        tally.maybe_false += len(maybe - true)
        answered: set[tuple[int, int]] = set()
        while pending := maybe - answered:
            for a, f in pending:
                attendee = event.attendees[a]
                if attendee.person == people[f]:
                    attendee.references.append(f)
                else:
                    attendee.rejected.add(f)
            tally.asked += len(pending)
            answered |= pending
            sure, maybe = tiers(event, distances, rule)
        final_true = {(a, f) for a, f in sure if event.attendees[a].person == people[f]}
        tally.final_true += len(final_true)
        tally.final_false += len(sure) - len(final_true)
    return tally


def distance_matrix(encodings: Sequence[Encoding]) -> np.ndarray:
    vectors = np.stack([e.vector for e in encodings])
    return np.linalg.norm(vectors[:, None, :] - vectors[None, :, :], axis=2)


def print_report(encodings: Sequence[Encoding]) -> None:
    people = [e.person for e in encodings]
    distances = distance_matrix(encodings)
    everyone = sorted(set(people))
    scenarios = {
        "all 10 registered": everyone,
        # The four actors of the collage come to the party unregistered.
        "6 registered, 4 strangers": [
            p
            for p in everyone
            if p not in ("bruce_willis", "dwayne_johnson", "jason_statham", "vin_diesel")
        ],
    }
    for name, registered in scenarios.items():
        print(f"Two tiers, tolerance {TOLERANCE:.2f}, one face one person at {SAME_PERSON:.2f}:")
        print(f"{name} (pairs: attendee x face, summed over the rounds)")
        print()
        print(
            "| maybe bound | sure P | sure R | sure+maybe P | sure+maybe R | "
            "suggestions true/false | after answers P | after answers R | questions |"
        )
        print("|---|---|---|---|---|---|---|---|---|")
        for bound in MAYBE_BOUNDS:
            tally = simulate(people, distances, registered, Rule(TOLERANCE, bound, SAME_PERSON))
            cells = " | ".join(f"{value:.3f}" for value in tally.row())
            (sp, sr, mp, mr, fp, fr) = cells.split(" | ")
            print(
                f"| {bound:.2f} | {sp} | {sr} | {mp} | {mr} | "
                f"{tally.maybe_true}/{tally.maybe_false} | {fp} | {fr} | {tally.asked} |"
            )
        print()
    print("One face, one person: sure tier precision / recall (all 10 registered)")
    print()
    header = " | ".join("off" if b is None else f"{b:.2f}" for b in SAME_PERSON_BOUNDS)
    print(f"| tolerance | {header} |")
    print("|---" * (len(SAME_PERSON_BOUNDS) + 1) + "|")
    for tolerance in TOLERANCES:
        cells = []
        for bound in SAME_PERSON_BOUNDS:
            tally = simulate(people, distances, everyone, Rule(tolerance, tolerance, bound))
            precision, recall = tally.row()[:2]
            cells.append(f"{precision:.3f} / {recall:.3f}")
        print(f"| {tolerance:.2f} | " + " | ".join(cells) + " |")
