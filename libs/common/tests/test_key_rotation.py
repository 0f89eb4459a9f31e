"""Rotating the token signing key: the new pair, the gateway's key list, the key folder
make run uses, and the command that prints the settings."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from findme_auth.tokens import TokenIssuer
from findme_common import key_rotation
from findme_common.key_rotation import (
    PRIVATE_KEY_FILE,
    PUBLIC_KEYS_FILE,
    load_or_create_key_dir,
    public_key_id,
    rotate,
    rotate_key_dir,
)
from findme_common.token_keys import split_pem_bundle


def test_the_new_key_comes_first_and_the_current_one_stays() -> None:
    first = rotate()
    second = rotate(first.public_keys_pem)

    assert split_pem_bundle(second.public_keys_pem)[1:] == split_pem_bundle(
        first.final_public_key_pem
    )
    assert split_pem_bundle(second.public_keys_pem)[0] == second.final_public_key_pem
    assert second.kept_key_ids == (first.key_id,)
    # auth signs with the new key: its tokens name it.
    issuer = TokenIssuer(second.private_key_pem, issuer="i", audience="a", ttl_seconds=60)
    assert issuer.key_id == second.key_id == public_key_id(second.final_public_key_pem)


def test_keep_bounds_how_many_old_keys_stay_accepted() -> None:
    first = rotate()
    second = rotate(first.public_keys_pem)
    third = rotate(second.public_keys_pem, keep=1)

    assert third.kept_key_ids == (second.key_id,)
    assert third.retired_key_ids == (first.key_id,)
    assert len(split_pem_bundle(rotate(third.public_keys_pem, keep=0).public_keys_pem)) == 1


def test_a_negative_keep_is_refused() -> None:
    with pytest.raises(ValueError):
        rotate(keep=-1)


def test_a_key_folder_is_created_once_with_a_private_file(tmp_path: Path) -> None:
    private, public = load_or_create_key_dir(tmp_path / "keys")

    assert stat.S_IMODE(os.stat(tmp_path / "keys" / PRIVATE_KEY_FILE).st_mode) == 0o600
    assert load_or_create_key_dir(tmp_path / "keys") == (private, public)


def test_rotating_a_key_folder_replaces_the_signing_key_and_adds_the_public_one(
    tmp_path: Path,
) -> None:
    old_private, old_public = load_or_create_key_dir(tmp_path)

    rotation = rotate_key_dir(tmp_path)
    private, public = load_or_create_key_dir(tmp_path)

    assert private == rotation.private_key_pem != old_private
    assert split_pem_bundle(public) == [rotation.final_public_key_pem, old_public]
    assert stat.S_IMODE(os.stat(tmp_path / PRIVATE_KEY_FILE).st_mode) == 0o600
    assert not list(tmp_path.glob("*.new"))
    assert (tmp_path / PUBLIC_KEYS_FILE).read_text() == rotation.public_keys_pem


def test_the_command_prints_the_settings_in_rollout_order(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    current = rotate()
    monkeypatch.setenv(key_rotation.GATEWAY_SETTING, current.public_keys_pem)

    assert key_rotation.main([]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if not line.startswith("#")]

    names = [line.split("=", 1)[0] for line in lines]
    assert names == [
        key_rotation.GATEWAY_SETTING,
        key_rotation.AUTH_SETTING,
        key_rotation.GATEWAY_SETTING,
    ]
    during, private, after = (line.split("=", 1)[1].strip('"') for line in lines)
    assert len(split_pem_bundle(during)) == 2 and len(split_pem_bundle(after)) == 1
    assert split_pem_bundle(during)[1] == current.final_public_key_pem
    assert "PRIVATE KEY" in private and "\n" not in private


def test_the_command_rotates_a_key_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    _, old_public = load_or_create_key_dir(tmp_path)

    assert key_rotation.main(["--key-dir", str(tmp_path)]) == 0

    assert public_key_id(old_public) in capsys.readouterr().out
    assert len(split_pem_bundle((tmp_path / PUBLIC_KEYS_FILE).read_text())) == 2
