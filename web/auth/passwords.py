"""Password hashing with argon2id (argon2-cffi's RFC 9106 defaults) and the password rules."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 256

# Per hasher parameters: verified when the login doesn't exist, so an unknown login costs
# as much time as a wrong password (no guessing which logins exist from response times)
_dummy_hashes: dict[tuple[int, int, int], str] = {}


def _dummy_hash(hasher: PasswordHasher) -> str:
    key = (hasher.time_cost, hasher.memory_cost, hasher.parallelism)
    if key not in _dummy_hashes:
        _dummy_hashes[key] = hasher.hash("cobra-dummy-password")
    return _dummy_hashes[key]


class PasswordRejected(ValueError):
    """The new password breaks a rule; the message says which."""


def check_new_password(password: str) -> str:
    """Return the password if it is acceptable, else raise PasswordRejected."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise PasswordRejected(f"the password needs at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise PasswordRejected(f"the password may have at most {MAX_PASSWORD_LENGTH} characters")
    if password.strip() != password:
        raise PasswordRejected("the password must not start or end with a space")
    return password


def hash_password(hasher: PasswordHasher, password: str) -> str:
    return hasher.hash(check_new_password(password))


def verify_password(hasher: PasswordHasher, stored_hash: str | None, password: str) -> bool:
    """True if ``password`` matches ``stored_hash``; None (no such user) still costs one verification."""
    if len(password) > MAX_PASSWORD_LENGTH:
        return False
    try:
        return hasher.verify(stored_hash or _dummy_hash(hasher), password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False
