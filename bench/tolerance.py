"""Which match tolerance to use: precision and recall of "distance <= t" on real faces.

    python -m bench.tolerance [--quick]

Encodings come from the selfie service's own pipelines (in-process, the code the
workers run): ``process_selfie`` for every labelled single-face file in
``../shared/faces/selfies`` and ``variants``, ``analyze_photo`` for the two group
photos. Group-photo faces are labelled by position (a point inside each face, as a
fraction of the image size), read off the pictures by eye for this benchmark:
``biden_and_obama.jpg`` is obama on the left, biden on the right, and
``bald_guys.jpg``, which the faces README calls "24 strangers", is a collage of four
actors with six photos each (the pairs closer than 0.5 all fall within those four
groups, an independent check of the labels). A detected face with no label, or two,
stops the run rather than guess.

Every pair of encodings is either same-person or different-person. For each t a
"match" is distance <= t. A wrong match shows a stranger's photo to someone, a
missed one only hides a photo, so the recommendation is the largest tolerance whose
precision is 1.0 with a margin below the closest different-person pair.
"""

from __future__ import annotations

import argparse
import itertools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from findme_selfie import pipelines
from findme_selfie.config import SelfieSettings

from bench import tiers

FACES = Path(__file__).resolve().parents[2] / "shared" / "faces"

# Labelled single-face files (faces README): file -> person.
SINGLE_FACE = {
    "selfies/alex_lacamoire.jpg": "alex_lacamoire",
    "selfies/biden.jpg": "biden",
    "selfies/kit_harington.jpg": "kit_harington",
    "selfies/lin_manuel_miranda.png": "lin_manuel_miranda",
    "selfies/obama.jpg": "obama",
    "selfies/rose_leslie.jpg": "rose_leslie",
    "variants/obama-1080p.jpg": "obama",
    "variants/obama-240p.jpg": "obama",
    "variants/obama-480p.jpg": "obama",
    "variants/obama-720p.jpg": "obama",
    "variants/obama_partial_face.jpg": "obama",
    "variants/obama_rgba_32bit.png": "obama",
    "variants/obama_small.jpg": "obama",
}
# Group photos: (person, x, y), a point inside the face as a fraction of width, height.
GROUP_PHOTOS: dict[str, list[tuple[str, float, float]]] = {
    "photos/biden_and_obama.jpg": [("obama", 0.27, 0.21), ("biden", 0.77, 0.2)],
    "photos/bald_guys.jpg": [
        ("bruce_willis", 0.068, 0.683),
        ("bruce_willis", 0.228, 0.873),
        ("bruce_willis", 0.432, 0.584),
        ("bruce_willis", 0.432, 0.865),
        ("bruce_willis", 0.575, 0.543),
        ("bruce_willis", 0.598, 0.741),
        ("dwayne_johnson", 0.583, 0.901),
        ("dwayne_johnson", 0.762, 0.913),
        ("dwayne_johnson", 0.803, 0.173),
        ("dwayne_johnson", 0.856, 0.487),
        ("dwayne_johnson", 0.946, 0.321),
        ("dwayne_johnson", 0.948, 0.887),
        ("jason_statham", 0.073, 0.509),
        ("jason_statham", 0.2, 0.073),
        ("jason_statham", 0.203, 0.338),
        ("jason_statham", 0.248, 0.601),
        ("jason_statham", 0.477, 0.129),
        ("jason_statham", 0.477, 0.313),
        ("vin_diesel", 0.067, 0.887),
        ("vin_diesel", 0.073, 0.106),
        ("vin_diesel", 0.073, 0.302),
        ("vin_diesel", 0.193, 0.193),
        ("vin_diesel", 0.314, 0.127),
        ("vin_diesel", 0.325, 0.335),
    ],
}
THRESHOLDS = [round(0.35 + 0.05 * i, 2) for i in range(7)]  # 0.35 .. 0.65
# Distance kept between the recommended tolerance and the closest different-person
# pair seen here: ten people are a small sample of a real crowd.
SAFETY_MARGIN = 0.05


@dataclass(frozen=True)
class Labelled:
    source: str
    person: str
    encoding: np.ndarray


def load_encodings(faces_dir: Path, settings: SelfieSettings) -> list[Labelled]:
    found = []
    for name, person in SINGLE_FACE.items():
        result = pipelines.process_selfie((faces_dir / name).read_bytes(), settings)
        found.append(Labelled(name, person, np.asarray(result.encoding)))
    for name, labels in GROUP_PHOTOS.items():
        photo = pipelines.analyze_photo((faces_dir / name).read_bytes(), settings)
        for face in photo.faces:
            box = face.box
            people = [
                person
                for person, x, y in labels
                if box.left <= x * photo.display_width <= box.right
                and box.top <= y * photo.display_height <= box.bottom
            ]
            if len(people) != 1:
                raise SystemExit(f"{name}: face at {box} has labels {people}; fix GROUP_PHOTOS")
            found.append(
                Labelled(f"{name}@{box.left},{box.top}", people[0], np.asarray(face.encoding))
            )
        if len(photo.faces) != len(labels):
            raise SystemExit(f"{name}: {len(photo.faces)} faces found, {len(labels)} labelled")
    return found


def pair_distances(faces: list[Labelled]) -> tuple[np.ndarray, np.ndarray]:
    same: list[float] = []
    different: list[float] = []
    for a, b in itertools.combinations(faces, 2):
        distance = float(np.linalg.norm(a.encoding - b.encoding))
        (same if a.person == b.person else different).append(distance)
    return np.asarray(same), np.asarray(different)


@dataclass(frozen=True)
class Score:
    tolerance: float
    true_matches: int
    false_matches: int
    missed: int

    @property
    def precision(self) -> float:
        called = self.true_matches + self.false_matches
        return self.true_matches / called if called else 1.0

    @property
    def recall(self) -> float:
        total = self.true_matches + self.missed
        return self.true_matches / total if total else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def score(same: np.ndarray, different: np.ndarray, tolerance: float) -> Score:
    true_matches = int((same <= tolerance).sum())
    return Score(
        tolerance=tolerance,
        true_matches=true_matches,
        false_matches=int((different <= tolerance).sum()),
        missed=len(same) - true_matches,
    )


def recommend(same: np.ndarray, different: np.ndarray) -> tuple[float, str]:
    """The largest listed tolerance at least SAFETY_MARGIN below every different-person
    pair, i.e. precision 1.0 with room to spare; recall decides nothing beyond that."""
    closest_stranger = float(different.min())
    safe = [t for t in THRESHOLDS if t <= closest_stranger - SAFETY_MARGIN]
    chosen = max(safe) if safe else min(THRESHOLDS)
    chosen_score = score(same, different, chosen)
    why = (
        f"closest different-person pair {closest_stranger:.3f}; largest listed tolerance "
        f"at least {SAFETY_MARGIN} below it is {chosen:.2f} "
        f"(precision {chosen_score.precision:.3f}, recall {chosen_score.recall:.3f}). "
        f"Same-person pairs reach {float(same.max()):.3f}."
    )
    return chosen, why


def closest_strangers(faces: list[Labelled]) -> str:
    a, b = min(
        ((a, b) for a, b in itertools.combinations(faces, 2) if a.person != b.person),
        key=lambda pair: float(np.linalg.norm(pair[0].encoding - pair[1].encoding)),
    )
    return f"{a.person} ({a.source}) vs {b.person} ({b.source})"


def print_report(faces: list[Labelled], same: np.ndarray, different: np.ndarray) -> None:
    people = len({face.person for face in faces})
    print(
        f"{len(faces)} encodings of {people} people; {len(same)} same-person pairs, "
        f"{len(different)} different-person pairs"
    )
    print(
        f"same-person distance: min {same.min():.3f}  median {np.median(same):.3f}  "
        f"max {same.max():.3f}"
    )
    print(
        f"different-person distance: min {different.min():.3f}  "
        f"5th pct {np.percentile(different, 5):.3f}  median {np.median(different):.3f}"
    )
    print()
    print("| tolerance | true matches | false matches | missed | precision | recall | F1 |")
    print("|---|---|---|---|---|---|---|")
    for tolerance in THRESHOLDS:
        s = score(same, different, tolerance)
        print(
            f"| {tolerance:.2f} | {s.true_matches} | {s.false_matches} | {s.missed} "
            f"| {s.precision:.3f} | {s.recall:.3f} | {s.f1:.3f} |"
        )
    print()
    chosen, why = recommend(same, different)
    print(f"recommended default_match_tolerance: {chosen:.2f}")
    print(f"  why: {why}")
    print(f"  closest different-person pair: {closest_strangers(faces)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="same run (it takes seconds)")
    parser.add_argument("--faces", type=Path, default=FACES)
    args = parser.parse_args()
    settings = SelfieSettings()
    faces = load_encodings(args.faces, settings)
    same, different = pair_distances(faces)
    print_report(faces, same, different)
    print()
    tiers.print_report([tiers.Encoding(person=face.person, vector=face.encoding) for face in faces])


if __name__ == "__main__":
    main()
