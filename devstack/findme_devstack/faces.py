"""Real face photos for tests and benchmarks, on any machine with the registries.

The core set, laid out like ``../shared/faces`` and built once under the data folder
(``$FINDME_DATA_DIR`` or ``.data``, in ``test-faces/``):

- the photos the ``face_recognition`` source distribution on PyPI ships in
  ``tests/test_images`` (pinned by its SHA-256): obama (three photos, two with the
  face cut by the frame, one as a 32-bit RGBA PNG) and biden;
- scikit-image's astronaut (one face, beside a mission patch that HOG half-takes for
  a second one) and coffee (no face at all);
- made from those: obama's photo at four video sizes, two people side by side, the
  same two far away in a big frame (faces ~25 px in the 1600 px copy a photo is
  first analysed at: missed there, found by a closer look), and a crowd of the
  astronaut's face in nine poses of size and mirror.

``../shared/faces``, when it sits beside the project, only adds more (``shared_dir``).
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import tarfile
import tempfile
import urllib.request
from pathlib import Path
from typing import Final

SDIST_URL: Final = (
    "https://files.pythonhosted.org/packages/6c/49/"
    "75dda409b94841f01cbbc34114c9b67ec618265084e4d12d37ab838f4fd3/face_recognition-1.3.0.tar.gz"
)
SDIST_SHA256: Final = "5e5efdd1686aa566af0d3cc1313b131e4b197657a8ffd03669e6d3fad92705ec"
# Where each registry file goes in the core set (the names ../shared/faces uses).
FROM_SDIST: Final = {
    "obama.jpg": "selfies/obama.jpg",
    "obama2.jpg": "selfies/obama2.jpg",
    "obama3.jpg": "selfies/obama3.jpg",
    "biden.jpg": "selfies/biden.jpg",
    "obama_partial_face.jpg": "variants/obama_partial_face.jpg",
    "obama_partial_face2.jpg": "variants/obama_partial_face2.jpg",
    "32bit.png": "variants/obama_rgba_32bit.png",
}
VIDEO_HEIGHTS: Final = (240, 480, 720, 1080)

# Roles the tests ask for.
OBAMA: Final = "selfies/obama.jpg"
BIDEN: Final = "selfies/biden.jpg"
ASTRONAUT: Final = "selfies/astronaut.jpg"
NO_FACE: Final = "negatives/coffee.jpg"
TWO_PEOPLE: Final = "photos/obama_and_biden.jpg"  # obama left, biden right
CROWD: Final = "photos/crowd.jpg"  # the astronaut, nine times
FAR_AWAY: Final = "photos/far_away.jpg"  # TWO_PEOPLE at 35 % in a 4000 x 3000 frame
# Every core selfie the selfie service accepts: one whole (or nearly whole) face.
ACCEPTED_SELFIES: Final = (
    OBAMA,
    "selfies/obama2.jpg",
    "selfies/obama3.jpg",
    BIDEN,
    ASTRONAUT,
    "variants/obama_partial_face.jpg",
    "variants/obama_partial_face2.jpg",
    "variants/obama_rgba_32bit.png",
    *(f"variants/obama-{height}p.jpg" for height in VIDEO_HEIGHTS),
)

ROOT: Final = Path(__file__).resolve().parents[2]
SHARED: Final = ROOT.parent / "shared" / "faces"
_COMPLETE: Final = ".complete"
# Bumped whenever the core set is built differently: older caches are rebuilt.
BUILD: Final = f"{SDIST_SHA256} 3"


class FacesUnavailable(RuntimeError):
    """The core set could not be built (no network to PyPI, a changed file)."""


def data_dir() -> Path:
    return Path(os.environ.get("FINDME_DATA_DIR", ROOT / ".data")).resolve()


def shared_dir() -> Path | None:
    """``../shared/faces`` when it sits beside the project."""
    return SHARED if SHARED.is_dir() else None


def core_dir() -> Path:
    """The core set on disk, built on first use (downloads about 3 MB once)."""
    target = data_dir() / "test-faces"
    marker = target / _COMPLETE
    if marker.is_file() and marker.read_text().strip() == BUILD:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix="test-faces-", dir=target.parent))
    try:
        _build(building)
        (building / _COMPLETE).write_text(BUILD + "\n")
        shutil.rmtree(target, ignore_errors=True)
        building.rename(target)
    finally:
        shutil.rmtree(building, ignore_errors=True)
    return target


def _download() -> bytes:
    try:
        with urllib.request.urlopen(SDIST_URL, timeout=60) as response:
            data: bytes = response.read()
    except OSError as exc:
        raise FacesUnavailable(f"cannot download {SDIST_URL}: {exc}") from exc
    digest = hashlib.sha256(data).hexdigest()
    if digest != SDIST_SHA256:
        raise FacesUnavailable(f"{SDIST_URL} has SHA-256 {digest}, expected {SDIST_SHA256}")
    return data


def _build(out: Path) -> None:
    from PIL import Image, ImageOps
    from skimage import data as samples

    with tarfile.open(fileobj=io.BytesIO(_download()), mode="r:gz") as sdist:
        for member in sdist.getmembers():
            name = member.name.rsplit("/", 1)[-1]
            if "/tests/test_images/" in member.name and name in FROM_SDIST:
                source = sdist.extractfile(member)
                assert source is not None
                _write(out / FROM_SDIST[name], source.read())
    missing = [n for n, rel in FROM_SDIST.items() if not (out / rel).is_file()]
    if missing:
        raise FacesUnavailable(f"the sdist no longer ships {missing}")

    obama = Image.open(out / OBAMA).convert("RGB")
    for height in VIDEO_HEIGHTS:
        size = (round(obama.width * height / obama.height), height)
        copy = obama.resize(size, Image.Resampling.LANCZOS)
        copy.save(_path(out / f"variants/obama-{height}p.jpg"), quality=90)

    astronaut = Image.fromarray(samples.astronaut())  # type: ignore[no-untyped-call]
    # As a camera would store it: the JPEG's artefacts lift the patch over HOG's line.
    astronaut.save(_path(out / ASTRONAUT), quality=90)
    coffee = samples.coffee()  # type: ignore[no-untyped-call]
    Image.fromarray(coffee).save(_path(out / NO_FACE), quality=90)

    biden = Image.open(out / BIDEN).convert("RGB")
    left = obama.resize((600, round(obama.height * 600 / obama.width)))
    right = biden.resize((600, round(biden.height * 600 / biden.width))).crop((0, 0, 600, 900))
    pair = Image.new("RGB", (1200, max(left.height, right.height)), "white")
    pair.paste(left, (0, 0))
    pair.paste(right, (600, 0))
    pair.save(_path(out / TWO_PEOPLE), quality=90)
    far = Image.new("RGB", (4000, 3000), (90, 90, 90))
    far.paste(pair.resize((round(pair.width * 0.35), round(pair.height * 0.35))), (1700, 1300))
    far.save(_path(out / FAR_AWAY), quality=90)

    head = astronaut.crop((140, 10, 310, 230))
    crowd = Image.new("RGB", (1800, 1380), (90, 90, 110))
    for index in range(9):
        scale = (1.0, 1.25, 1.5)[index % 3]
        pose = head.resize((round(head.width * scale), round(head.height * scale)))
        if index // 3 == 1:
            pose = ImageOps.mirror(pose)
        crowd.paste(pose, (60 + (index % 3) * 590, 40 + (index // 3) * 450))
    crowd.save(_path(out / CROWD), quality=90)


def _path(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def _write(path: Path, data: bytes) -> None:
    _path(path).write_bytes(data)
