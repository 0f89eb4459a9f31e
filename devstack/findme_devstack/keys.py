"""The token signing key pair for local runs: made once, kept in the data folder."""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


def generate_pem_pair() -> tuple[str, str]:
    """(private PEM, public PEM) of a new Ed25519 key."""
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


def load_or_create(key_dir: Path) -> tuple[str, str]:
    """The pair stored in ``key_dir``, created (private file mode 0600) on first use."""
    private_path = key_dir / "token_ed25519.pem"
    public_path = key_dir / "token_ed25519.pub.pem"
    if not private_path.exists():
        key_dir.mkdir(parents=True, exist_ok=True)
        private, public = generate_pem_pair()
        fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(private)
        public_path.write_text(public)
    return private_path.read_text(), public_path.read_text()
