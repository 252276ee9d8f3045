"""The tool's signing key: its public key set (JWKS) and the signed client assertion (IMS Security Framework).

The private key never leaves this module's callers: messages name its path,
never its contents. The key id is the RFC 7638 thumbprint of the public key, so
that the same key always has the same id and a new key a new one.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from gradebook_tools.lms.config import LmsConfigError

#: The client assertion's type (RFC 7523), sent as ``client_assertion_type``.
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
#: Smallest RSA key accepted (IMS Security Framework: at least 2048 bits).
MIN_KEY_BITS = 2048


def load_private_key(path: Path | str) -> RSAPrivateKey:
    """Read the tool's RSA private key (PEM, unencrypted).

    Raises
    ------
    LmsConfigError
        Naming the path and what to do, never the file's contents.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise LmsConfigError(
            f"cannot read c.LTI.private_key_file {path}: {error.strerror or error}; "
            "create one with `openssl genrsa -out PATH 2048` outside the course folder"
        ) from None
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        raise LmsConfigError(
            f"c.LTI.private_key_file {path} is not an unencrypted PEM private key "
            "(`openssl genrsa -out PATH 2048` makes one)"
        ) from None
    if not isinstance(key, RSAPrivateKey) or key.key_size < MIN_KEY_BITS:
        raise LmsConfigError(f"c.LTI.private_key_file {path} must be an RSA key of at least {MIN_KEY_BITS} bits")
    return key


def _b64url_uint(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def rsa_thumbprint(n: str, e: str) -> str:
    """RFC 7638 thumbprint (SHA-256) of an RSA public key given as base64url ``n`` and ``e``."""
    canonical = json.dumps({"e": e, "kty": "RSA", "n": n}, separators=(",", ":"))
    return base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode("ascii")


def key_id(key: RSAPrivateKey) -> str:
    """The key id the tool signs with: the RFC 7638 thumbprint of its public key."""
    numbers = key.public_key().public_numbers()
    return rsa_thumbprint(_b64url_uint(numbers.n), _b64url_uint(numbers.e))


def public_jwks(key: RSAPrivateKey) -> dict[str, Any]:
    """The public key set to register with the platform: one RS256 signing key with its key id."""
    numbers = key.public_key().public_numbers()
    return {
        "keys": [
            {
                "kty": "RSA",
                "alg": "RS256",
                "use": "sig",
                "kid": key_id(key),
                "n": _b64url_uint(numbers.n),
                "e": _b64url_uint(numbers.e),
            }
        ]
    }


def public_pem(key: RSAPrivateKey) -> str:
    """The public key in PEM (SubjectPublicKeyInfo), for platforms that take a key rather than a key set (Moodle)."""
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )


def client_assertion(key: RSAPrivateKey, client_id: str, token_url: str, lifetime: int = 300) -> str:
    """A signed JWT the token endpoint accepts in place of a client secret.

    ``iss`` = ``sub`` = the client id, ``aud`` = the token endpoint, a fresh
    ``jti`` each time, and a short ``exp``.
    """
    now = int(time.time())
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": token_url,
        "iat": now,
        "exp": now + lifetime,
        "jti": str(uuid.uuid4()),
    }
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": key_id(key)})
