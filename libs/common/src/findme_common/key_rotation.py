"""Rotating the token signing key without logging anyone out (needs the ``tokens``
extra of findme-common: ``cryptography``).

auth signs with one Ed25519 key; the gateway accepts every public key in its setting
and picks the one a token names in its ``kid`` header. A rotation is therefore:

1. make a new key pair (``rotate``);
2. give the gateway the new public key *and* the current ones, and deploy it;
3. give auth the new private key, and deploy it: new tokens carry the new ``kid``,
   tokens already issued still verify against the old key;
4. once the longest token lifetime (``FINDME_AUTH_TOKEN_TTL_SECONDS``) has passed,
   give the gateway the new public key alone.

``python -m findme_common.key_rotation`` (or ``findme-admin rotate-token-key``) does
step 1 and prints the values for steps 2-4; ``--key-dir`` rotates a key folder
instead (``make run`` keeps one in ``.data/keys``: ``token_ed25519.pem`` for auth,
``token_ed25519.pub.pem`` for the gateway, which may hold several public keys one
after the other).
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_pem_public_key,
)

from findme_common.token_keys import key_id, split_pem_bundle

PRIVATE_KEY_FILE = "token_ed25519.pem"
PUBLIC_KEYS_FILE = "token_ed25519.pub.pem"
GATEWAY_SETTING = "FINDME_GATEWAY_TOKEN_PUBLIC_KEY"
AUTH_SETTING = "FINDME_AUTH_TOKEN_PRIVATE_KEY"


@dataclass(frozen=True)
class Rotation:
    # The new signing key, for auth (FINDME_AUTH_TOKEN_PRIVATE_KEY).
    private_key_pem: str
    # The new public key first, then the previous ones still accepted, for the gateway
    # (FINDME_GATEWAY_TOKEN_PUBLIC_KEY) until every old token has expired.
    public_keys_pem: str
    # The new public key alone: the gateway's value once old tokens have expired.
    final_public_key_pem: str
    key_id: str
    kept_key_ids: tuple[str, ...]
    retired_key_ids: tuple[str, ...]


def new_key_pair() -> tuple[str, str]:
    """(private PEM, public PEM) of a new Ed25519 key."""
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()
    public = key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    return private, public.decode()


def public_key_id(public_pem: str) -> str:
    key = load_pem_public_key(public_pem.encode())
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("token keys are Ed25519 public keys")
    return key_id(key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo))


def rotate(accepted_public_keys: str = "", *, keep: int = 1) -> Rotation:
    """A new signing key, and the gateway's key list with it in front of the ``keep``
    newest keys it accepts now (the first of ``accepted_public_keys`` is the newest)."""
    if keep < 0:
        raise ValueError("keep must be 0 or more")
    private, public = new_key_pair()
    current = split_pem_bundle(accepted_public_keys)
    kept, retired = current[:keep], current[keep:]
    return Rotation(
        private_key_pem=private,
        public_keys_pem="".join([public, *kept]),
        final_public_key_pem=public,
        key_id=public_key_id(public),
        kept_key_ids=tuple(public_key_id(pem) for pem in kept),
        retired_key_ids=tuple(public_key_id(pem) for pem in retired),
    )


def one_line(pem: str) -> str:
    """A PEM value as one line with literal ``\\n``, for .env files and dashboards."""
    return pem.strip().replace("\n", "\\n")


def _write_private(path: Path, text: str) -> None:
    # Written beside the target with mode 0600, then moved over it in one step.
    temporary = path.with_name(path.name + ".new")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    temporary.replace(path)


def load_or_create_key_dir(key_dir: Path) -> tuple[str, str]:
    """(auth's private PEM, the gateway's public PEMs) of a key folder, made on first use."""
    private_path, public_path = key_dir / PRIVATE_KEY_FILE, key_dir / PUBLIC_KEYS_FILE
    if not private_path.exists():
        key_dir.mkdir(parents=True, exist_ok=True)
        private, public = new_key_pair()
        public_path.write_text(public)
        _write_private(private_path, private)
    return private_path.read_text(), public_path.read_text()


def rotate_key_dir(key_dir: Path, *, keep: int = 1) -> Rotation:
    """Rotate a key folder in place: auth's key replaced, the new public key added in
    front of the ``keep`` newest ones the gateway accepted."""
    _, accepted = load_or_create_key_dir(key_dir)
    rotation = rotate(accepted, keep=keep)
    (key_dir / PUBLIC_KEYS_FILE).write_text(rotation.public_keys_pem)
    _write_private(key_dir / PRIVATE_KEY_FILE, rotation.private_key_pem)
    return rotation


def _report(rotation: Rotation) -> str:
    kept = ", ".join(rotation.kept_key_ids) or "none"
    retired = ", ".join(rotation.retired_key_ids) or "none"
    return "\n".join(
        [
            f"# New signing key: kid {rotation.key_id}. Still accepted: {kept}.",
            f"# No longer accepted: {retired}.",
            "# 1. The gateway first (it must know the new key before any token carries it):",
            f'{GATEWAY_SETTING}="{one_line(rotation.public_keys_pem)}"',
            "# 2. Then auth (new tokens are signed with the new key):",
            f'{AUTH_SETTING}="{one_line(rotation.private_key_pem)}"',
            "# 3. After the longest token lifetime (FINDME_AUTH_TOKEN_TTL_SECONDS), the gateway:",
            f'{GATEWAY_SETTING}="{one_line(rotation.final_public_key_pem)}"',
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m findme_common.key_rotation",
        description="Make a new token signing key and print the settings that roll it out.",
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--accepted",
        type=Path,
        help=f"file with the public keys the gateway accepts now (default: ${GATEWAY_SETTING})",
    )
    source.add_argument(
        "--key-dir",
        type=Path,
        help="rotate this key folder in place (make run's .data/keys) instead of printing",
    )
    parser.add_argument(
        "--keep", type=int, default=1, help="how many current keys stay accepted (default 1)"
    )
    args = parser.parse_args(argv)
    if args.keep < 0:
        parser.error("--keep must be 0 or more")
    if args.key_dir is not None:
        rotation = rotate_key_dir(args.key_dir, keep=args.keep)
        kept = ", ".join(rotation.kept_key_ids) or "none"
        print(f"{args.key_dir}: new signing key {rotation.key_id}; still accepted: {kept}")
        return 0
    accepted = args.accepted.read_text() if args.accepted else os.environ.get(GATEWAY_SETTING, "")
    print(_report(rotate(accepted, keep=args.keep)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
