from __future__ import annotations

import pytest

from tests.web.conftest import FAST_HASHER
from web.auth.passwords import PasswordRejected, check_new_password, hash_password, verify_password


def test_hash_is_argon2id_and_verifies() -> None:
    stored = hash_password(FAST_HASHER, "correta-123")
    assert stored.startswith("$argon2id$")
    assert "correta-123" not in stored
    assert verify_password(FAST_HASHER, stored, "correta-123")
    assert not verify_password(FAST_HASHER, stored, "Correta-123")


def test_unknown_user_and_garbage_hash_never_verify() -> None:
    assert not verify_password(FAST_HASHER, None, "cobra-dummy-password")
    assert not verify_password(FAST_HASHER, "not-a-hash", "qualquer-coisa")
    assert not verify_password(FAST_HASHER, hash_password(FAST_HASHER, "x" * 256), "x" * 257)


@pytest.mark.parametrize(
    ("password", "problem"),
    [("curta", "at least 8"), ("x" * 257, "at most 256"), (" espaco-antes", "start or end with a space")],
)
def test_password_rules(password: str, problem: str) -> None:
    with pytest.raises(PasswordRejected, match=problem):
        check_new_password(password)
