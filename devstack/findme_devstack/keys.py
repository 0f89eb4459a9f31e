"""The token signing keys for local runs: made once, kept in the data folder's key
folder (``.data/keys``), rotated with ``python -m findme_common.key_rotation --key-dir
.data/keys`` (auth then signs with the new key; the gateway accepts the new and the
previous one)."""

from __future__ import annotations

from pathlib import Path

from findme_common.key_rotation import load_or_create_key_dir


def load_or_create(key_dir: Path) -> tuple[str, str]:
    """(auth's private PEM, the gateway's public PEMs), created (private file mode 0600)
    on first use."""
    return load_or_create_key_dir(key_dir)
