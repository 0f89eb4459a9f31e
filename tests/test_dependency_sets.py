"""One lockfile, one dependency set per service: each installs only what it needs."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def uv_command() -> list[str]:
    found = shutil.which("uv")
    return [found] if found else [sys.executable, "-m", "uv"]


def locked_packages(package: str) -> set[str]:
    """Names of everything `uv sync --package <package>` would install, from uv.lock."""
    out = subprocess.run(
        [
            *uv_command(),
            "export",
            "--frozen",
            "--no-dev",
            "--no-hashes",
            "--no-emit-workspace",
            "--package",
            package,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    names = set()
    for line in out.splitlines():
        if "sys_platform == 'never'" in line:
            continue  # overridden away (face_recognition's source-built dlib)
        match = re.match(r"^([A-Za-z0-9_.\-]+)==", line)
        if match:
            names.add(match.group(1).lower().replace("_", "-"))
    return names


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
