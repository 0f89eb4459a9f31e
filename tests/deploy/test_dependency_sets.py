"""One lockfile, one dependency set per service: each installs only what it needs."""

from __future__ import annotations

import pytest

from .deployfiles import locked_packages

HEAVY_IMAGE = {"dlib-bin", "dlib", "face-recognition", "face-recognition-models", "pillow-heif"}
WEB = {"fastapi", "uvicorn", "starlette"}
DATABASE = {"sqlalchemy", "asyncpg", "alembic", "pgvector"}


@pytest.mark.parametrize(
    ("package", "required", "forbidden"),
    [
        ("findme-gateway", {"fastapi", "uvicorn", "grpcio"}, HEAVY_IMAGE | DATABASE | {"bcrypt"}),
        ("findme-auth", {"bcrypt", "libpass", "grpcio"}, HEAVY_IMAGE | WEB | DATABASE),
        ("findme-events", {"sqlalchemy", "asyncpg", "pgvector", "alembic"}, HEAVY_IMAGE | WEB),
        ("findme-selfie", {"dlib-bin", "face-recognition", "pillow"}, WEB | DATABASE | {"dlib"}),
    ],
)
def test_service_dependency_set(package: str, required: set[str], forbidden: set[str]) -> None:
    names = locked_packages(package)
    assert required <= names, f"{package} lacks {required - names}"
    assert not (forbidden & names), f"{package} pulls {forbidden & names}"
