"""The committed gRPC stubs are exactly what `make proto` generates from proto/."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMMITTED = ROOT / "libs" / "common" / "src"


def load_generator():
    spec = importlib.util.spec_from_file_location("gen_proto", ROOT / "scripts" / "gen_proto.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_proto_is_a_versioned_package() -> None:
    for proto in load_generator().proto_files():
        parts = proto.relative_to(ROOT / "proto").parts
        package = ".".join(parts[:-1])
        assert f"package {package};" in proto.read_text(), proto
        assert parts[-2].startswith("v"), f"{proto} is not in a versioned package"


def test_committed_stubs_match_regeneration(tmp_path: Path) -> None:
    fresh = {p.relative_to(tmp_path): p.read_bytes() for p in load_generator().generate(tmp_path)}
    committed = {
        p.relative_to(COMMITTED): p.read_bytes()
        for p in (COMMITTED / "findme").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    assert sorted(committed) == sorted(fresh), "stub files differ: run `make proto`"
    stale = [str(path) for path, data in fresh.items() if committed[path] != data]
    assert not stale, f"stale stubs (run `make proto`): {stale}"
