"""User accounts as admins manage them: validation of new accounts, password changes, disabling.

Messages name the option they are about (``--extension``...), as the CLI shows them as is.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dialer.ami import sanitize
from dialer.errors import AmiValueError
from storage.errors import NotFound
from storage.models import Role, User
from storage.repositories import audit
from storage.repositories.users import (
    add_user,
    get_user_by_extension,
    get_user_by_login,
)
from web.auth.passwords import hash_password
from web.auth.sessions import end_user_sessions

LOGIN_PATTERN = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}")
EXTENSION_PATTERN = re.compile(r"[0-9]{2,10}")
MAX_NAME_LENGTH = 120


class AccountError(ValueError):
    """An account value is unacceptable; the message names the option and the problem.

    ``field`` is the value at fault as the REST API and the admin page name it (``login``,
    ``role``, ``name``, ``extension``, ``endpoint``) and ``message_pt`` says it in pt-BR for
    them: the CLI shows the English message, the page the Portuguese one."""

    def __init__(self, message: str, *, field: str | None = None, message_pt: str | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.message_pt = message_pt or message


@dataclass(frozen=True, slots=True)
class NewAccount:
    login: str
    role: Role
    full_name: str
    extension: str | None = None
    endpoint: str | None = None


def normalise_login(login: str) -> str:
    """Logins are case-insensitive: stored and compared in lower case."""
    return login.strip().lower()


def check_new_account(
    login: str,
    role: Role | str,
    full_name: str | None = None,
    extension: str | None = None,
    endpoint: str | None = None,
) -> NewAccount:
    """Validate a new account; AccountError names what is wrong."""
    login = normalise_login(login)
    if not LOGIN_PATTERN.fullmatch(login):
        raise AccountError(
            f"LOGIN {login!r}: use 2 to 64 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit",
            field="login",
            message_pt="Usuário inválido: use de 2 a 64 letras minúsculas, dígitos, '.', '_' ou '-', "
            "começando por letra ou dígito.",
        )
    try:
        role = Role(role)
    except ValueError:
        raise AccountError(
            f"--role {role!r}: must be one of {', '.join(r.value for r in Role)}",
            field="role",
            message_pt=f"Perfil inválido; use: {', '.join(r.value for r in Role)}.",
        ) from None
    name = (full_name if full_name is not None else login).strip()
    if not name or len(name) > MAX_NAME_LENGTH:
        raise AccountError(
            f"--name: must have 1 to {MAX_NAME_LENGTH} characters",
            field="name",
            message_pt=f"O nome deve ter de 1 a {MAX_NAME_LENGTH} caracteres.",
        )
    if any(unicodedata.category(ch) in ("Cc", "Zl", "Zp") for ch in name):
        raise AccountError(
            "--name: must not contain line breaks or control characters",
            field="name",
            message_pt="O nome não pode ter quebras de linha nem caracteres de controle.",
        )
    if extension is not None and not EXTENSION_PATTERN.fullmatch(extension):
        raise AccountError(
            f"--extension {extension!r}: must be 2 to 10 digits (e.g. 7001)",
            field="extension",
            message_pt="O ramal deve ter de 2 a 10 dígitos (ex.: 7001).",
        )
    if endpoint is not None:
        try:
            sanitize.channel("--endpoint", endpoint)
        except AmiValueError as exc:
            raise AccountError(
                str(exc),
                field="endpoint",
                message_pt="Telefone inválido: use o endereço de discagem do Asterisk, sem espaços (ex.: PJSIP/7001).",
            ) from None
    if role is Role.AGENT and (extension is None or endpoint is None):
        missing = " and ".join(opt for opt, v in (("--extension", extension), ("--endpoint", endpoint)) if v is None)
        raise AccountError(
            f"agents need {missing}: the extension is their conference and the endpoint the phone "
            "Cobra calls (e.g. --extension 7001 --endpoint PJSIP/7001)",
            field="extension" if extension is None else "endpoint",
            message_pt="Operadores precisam de ramal e telefone: o ramal é a conferência dele e o telefone "
            "é o que o Cobra chama (ex.: ramal 7001, telefone PJSIP/7001).",
        )
    if extension is not None and endpoint is None:
        raise AccountError(
            "--extension needs --endpoint (the phone that joins that extension's conference)",
            field="endpoint",
            message_pt="Com ramal é preciso informar o telefone que entra na conferência desse ramal.",
        )
    return NewAccount(login, role, name, extension, endpoint)


async def add_account(
    db: AsyncSession,
    hasher: PasswordHasher,
    account: NewAccount,
    password: str,
    *,
    source: str | None = None,
    actor_id: int | None = None,
    at: datetime | None = None,
) -> User:
    """Store ``account`` with an argon2 hash of ``password``; storage's AlreadyExists on a taken login/extension.

    With ``source`` ("cli", "api"...) the change is audited as done by ``actor_id`` (None: a
    terminal, not a logged-in user); seeds and test fixtures leave it out."""
    return await add_hashed_account(
        db, account, hash_password(hasher, password), source=source, actor_id=actor_id, at=at
    )


async def add_hashed_account(
    db: AsyncSession,
    account: NewAccount,
    password_hash: str,
    *,
    source: str | None = None,
    actor_id: int | None = None,
    at: datetime | None = None,
) -> User:
    """:func:`add_account` with the hash already computed (the web hashes off the event loop)."""
    user = await add_user(
        db,
        login=account.login,
        password_hash=password_hash,
        role=account.role,
        full_name=account.full_name,
        extension=account.extension,
        endpoint=account.endpoint,
    )
    await _audit(db, source, actor_id, "user.add", user, None, _profile(user), at)
    return user


async def list_accounts(db: AsyncSession) -> list[User]:
    """Every user, by role then login."""
    return list((await db.scalars(select(User).order_by(User.role, User.login))).all())


async def account_by_id(db: AsyncSession, user_id: int) -> User | None:
    """The user with ``user_id``, None when there is none."""
    return await db.get(User, user_id)


async def _existing(db: AsyncSession, login: str) -> User:
    user = await get_user_by_login(db, normalise_login(login))
    if user is None:
        raise NotFound(f"no user with login {normalise_login(login)!r}")
    return user


async def change_password(
    db: AsyncSession,
    hasher: PasswordHasher,
    login: str,
    password: str,
    *,
    source: str | None = None,
    actor_id: int | None = None,
    at: datetime | None = None,
) -> int:
    """Set a new password and end the user's sessions; returns how many sessions ended."""
    return await change_password_hash(
        db, login, hash_password(hasher, password), source=source, actor_id=actor_id, at=at
    )


async def change_password_hash(
    db: AsyncSession,
    login: str,
    password_hash: str,
    *,
    source: str | None = None,
    actor_id: int | None = None,
    generated: bool = False,
    at: datetime | None = None,
) -> int:
    """:func:`change_password` with the hash already computed; ``generated`` is audited (a reset by an admin)."""
    user = await _existing(db, login)
    user.password_hash = password_hash
    ended = await end_user_sessions(db, user.id)
    after: dict[str, Any] = {"sessions_ended": ended}
    if generated:
        after["generated"] = True
    await _audit(db, source, actor_id, "user.passwd", user, None, after, at)
    return ended


async def set_active(
    db: AsyncSession,
    login: str,
    active: bool,
    *,
    source: str | None = None,
    actor_id: int | None = None,
    at: datetime | None = None,
) -> int:
    """Enable or disable a user; disabling ends their sessions. Returns how many sessions ended."""
    user = await _existing(db, login)
    before = user.active
    user.active = active
    ended = 0 if active else await end_user_sessions(db, user.id)
    action = "user.enable" if active else "user.disable"
    await _audit(
        db, source, actor_id, action, user, {"active": before}, {"active": active, "sessions_ended": ended}, at
    )
    return ended


@dataclass(frozen=True, slots=True)
class AccountChange:
    """What changed in an account, and how many sessions that ended."""

    before: dict[str, str | None]
    after: dict[str, str | None]
    sessions_ended: int


# A change of any of these ends the user's sessions: what they may open, or which phone and
# conference the dialer uses for them, is no longer what their open pages were given
_SESSION_BOUND = ("role", "extension", "endpoint")


async def change_account(
    db: AsyncSession,
    login: str,
    *,
    role: Role | str | None = None,
    full_name: str | None = None,
    extension: str | None = None,
    endpoint: str | None = None,
    clear_phone: bool = False,
    clear_extension: bool = False,
    clear_endpoint: bool = False,
    source: str | None = None,
    actor_id: int | None = None,
    at: datetime | None = None,
) -> AccountChange:
    """Change the role, name, extension or endpoint of ``login`` (None: unchanged; ``clear_phone``
    removes extension and endpoint, ``clear_extension``/``clear_endpoint`` one of them). Validated as a new account would be; a role, extension or
    endpoint change ends the user's sessions (their open pages close). AccountError names the option."""
    user = await _existing(db, login)
    current = _profile(user)
    wanted_extension = (
        None if clear_phone or clear_extension else (extension if extension is not None else user.extension)
    )
    wanted_endpoint = None if clear_phone or clear_endpoint else (endpoint if endpoint is not None else user.endpoint)
    checked = check_new_account(
        user.login,
        role if role is not None else Role(user.role),
        full_name if full_name is not None else user.full_name,
        wanted_extension,
        wanted_endpoint,
    )
    if checked.extension is not None and checked.extension != user.extension:
        holder = await get_user_by_extension(db, checked.extension)
        if holder is not None and holder.id != user.id:
            raise AccountError(
                f"--extension {checked.extension!r}: already assigned to {holder.login}",
                field="extension",
                message_pt=f"O ramal {checked.extension} já é de {holder.login}.",
            )
    user.role = checked.role
    user.full_name = checked.full_name
    user.extension = checked.extension
    user.endpoint = checked.endpoint
    wanted = _profile(user)
    changed = [key for key in wanted if wanted[key] != current[key]]
    before = {key: current[key] for key in changed}
    after = {key: wanted[key] for key in changed}
    ended = 0
    if any(key in _SESSION_BOUND for key in changed):
        ended = await end_user_sessions(db, user.id)
    if changed:
        await _audit(db, source, actor_id, "user.change", user, before, {**after, "sessions_ended": ended}, at)
    return AccountChange(before, after, ended)


def _profile(user: User) -> dict[str, str | None]:
    return {
        "login": user.login,
        "role": Role(user.role).value,
        "full_name": user.full_name,
        "extension": user.extension,
        "endpoint": user.endpoint,
    }


async def _audit(
    db: AsyncSession,
    source: str | None,
    actor_id: int | None,
    action: str,
    user: User,
    before: dict[str, Any] | None,
    after: dict[str, Any],
    at: datetime | None = None,
) -> None:
    """The audit entry of an account change (never a password or its hash)."""
    if source is None:
        return
    await audit.record(
        db,
        user_id=actor_id,
        action=action,
        entity="user",
        entity_id=user.id,
        before=before,
        after={**after, "login": user.login, "source": source},
        at=at,
    )
