"""Token signing keys as deployments hold them: PEM text, possibly several keys in
one value (a bundle), and the key id (``kid``) that names each public key.

auth puts the ``kid`` of its signing key in every token's header; the gateway keeps
the public keys it accepts by ``kid``. The id is derived from the public key itself,
so it can never disagree with the key it names and needs no setting of its own.
Standard library only: both services bring their own ``cryptography`` to parse keys.
"""

from __future__ import annotations

import base64
import hashlib
import re

_PEM_BLOCK = re.compile(
    r"-----BEGIN (?P<label>[A-Z0-9 ]+)-----\s*"
    r"(?P<body>[A-Za-z0-9+/=\s]*?)\s*"
    r"-----END (?P=label)-----"
)


def normalise_pem_text(value: str) -> str:
    """PEM text as env files and dashboards carry it: one line with literal ``\\n``
    is accepted as well as real newlines."""
    return value.replace("\\n", "\n").strip()


def split_pem_bundle(value: str) -> list[str]:
    """Each PEM block of ``value`` (one or more keys one after the other), in order,
    as its own PEM text ending with a newline. Text outside the blocks is ignored."""
    blocks = []
    for match in _PEM_BLOCK.finditer(normalise_pem_text(value)):
        label = match.group("label")
        body = "\n".join(line.strip() for line in match.group("body").split() if line.strip())
        blocks.append(f"-----BEGIN {label}-----\n{body}\n-----END {label}-----\n")
    return blocks


def key_id(spki_der: bytes) -> str:
    """The ``kid`` of a public key: base64url SHA-256 of its DER SubjectPublicKeyInfo
    (the same fingerprint as an HTTP public-key pin), first 16 characters."""
    digest = hashlib.sha256(spki_der).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")[:16]
