"""Signed satisfaction links: ``/avaliacao/<nonce>.<signature>``.

The nonce is random (stored with the survey) and the signature an HMAC-SHA256 of it under
``[regua] link_secret``: a link can't be guessed or forged, and one found in an old e-mail
still works (the rating is stored once anyway).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

SIGNATURE_CHARS = 24
_TOKEN = re.compile(rf"([0-9a-f]{{32}})\.([0-9a-f]{{{SIGNATURE_CHARS}}})")


def new_nonce() -> str:
    return secrets.token_hex(16)


def sign(nonce: str, secret: str) -> str:
    mac = hmac.new(secret.encode(), f"avaliacao:{nonce}".encode(), hashlib.sha256).hexdigest()
    return f"{nonce}.{mac[:SIGNATURE_CHARS]}"


def verify(token: str, secret: str) -> str | None:
    """The nonce of a well-signed token, else None."""
    match = _TOKEN.fullmatch(token)
    if match is None:
        return None
    return match[1] if hmac.compare_digest(sign(match[1], secret), token) else None


def survey_url(base_url: str, nonce: str, secret: str) -> str:
    return f"{base_url.rstrip('/')}/avaliacao/{sign(nonce, secret)}"
