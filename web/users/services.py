"""Users as the admin page and ``/api/v1/users`` manage them, on the services ``cobra user`` uses.

The rules (validation, audit entries, which changes end the user's sessions) live in
:mod:`web.auth.accounts`, shared with the CLI; this module adds what the web needs on top:
ids instead of logins, pt-BR refusals naming the field, a password generated and shown once,
argon2 off the event loop, and an admin who can't lock themselves out.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.errors import AlreadyExists
from storage.models import Role, User
from storage.repositories.users import get_user_by_extension, get_user_by_login
from web.auth.access import ROLE_LABEL
from web.auth.accounts import (
    AccountError,
    NewAccount,
    account_by_id,
    add_hashed_account,
    change_account,
    change_password_hash,
    check_new_account,
    list_accounts,
    set_active,
)
from web.auth.passwords import PasswordRejected, check_new_password, hash_password
from web.auth.settings import Auth
from web.errors import FieldError

SOURCE = "api"
# No 0/O, 1/l/I: the admin reads it aloud or types it into a message to the new user
_ALPHABET = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
GENERATED_LENGTH = 14  # ~82 bits


def generate_password() -> str:
    """A random password that passes the password rules."""
    return check_new_password("".join(secrets.choice(_ALPHABET) for _ in range(GENERATED_LENGTH)))


def user_item(user: User) -> dict[str, Any]:
    """One user as the API answers it (never the password hash)."""
    role = Role(user.role)
    return {
        "id": user.id,
        "login": user.login,
        "name": user.full_name,
        "role": role.value,
        "role_label": ROLE_LABEL[role],
        "extension": user.extension,
        "endpoint": user.endpoint,
        "active": user.active,
    }


@dataclass(frozen=True, slots=True)
class NewUser:
    """What the admin typed to create a user; ``password`` None: generate one."""

    login: str
    role: Role
    name: str | None = None
    extension: str | None = None
    endpoint: str | None = None
    password: str | None = None


@dataclass(frozen=True, slots=True)
class UserEdit:
    """A change to a user: None leaves a value as is; ``clear_*`` removes the extension/endpoint."""

    role: Role | None = None
    name: str | None = None
    extension: str | None = None
    endpoint: str | None = None
    clear_extension: bool = False
    clear_endpoint: bool = False
    active: bool | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    """The user after a change, the password to show once (None when the admin chose it), sessions ended."""

    user: User
    password: str | None = None
    sessions_ended: int = 0
    changed: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "user": user_item(self.user),
            "password": self.password,
            "sessions_ended": self.sessions_ended,
            "changed": self.changed or {},
        }


def _refusal(exc: AccountError) -> FieldError:
    return FieldError.invalid(exc.field, exc.message_pt)


def _password(password: str | None) -> tuple[str, bool]:
    """The password to store and whether Cobra generated it."""
    if password is None:
        return generate_password(), True
    try:
        return check_new_password(password), False
    except PasswordRejected:
        raise FieldError.invalid(
            "password", "A senha deve ter de 8 a 256 caracteres e não pode começar nem terminar com espaço."
        ) from None


async def _hash(auth: Auth, password: str) -> str:
    # argon2 takes ~0.4 s of CPU and 64 MiB: off the event loop, a bounded number at once
    async with auth.hashing_slots:
        return await asyncio.to_thread(hash_password, auth.hasher, password)


async def all_users(sessions: async_sessionmaker[AsyncSession]) -> list[User]:
    async with sessions() as db:
        return await list_accounts(db)


async def create_user(
    sessions: async_sessionmaker[AsyncSession], auth: Auth, new: NewUser, *, actor_id: int, at: datetime
) -> Outcome:
    """Validate, hash (outside the transaction: SQLite's write lock is not held for it), store, audit."""
    try:
        account: NewAccount = check_new_account(new.login, new.role, new.name, new.extension, new.endpoint)
    except AccountError as exc:
        raise _refusal(exc) from None
    password, generated = _password(new.password)
    password_hash = await _hash(auth, password)
    async with sessions() as db:
        if await get_user_by_login(db, account.login) is not None:
            raise FieldError.conflict(f"O usuário {account.login} já existe.", field="login")
        if account.extension is not None:
            holder = await get_user_by_extension(db, account.extension)
            if holder is not None:
                raise FieldError.conflict(f"O ramal {account.extension} já é de {holder.login}.", field="extension")
        try:
            user = await add_hashed_account(db, account, password_hash, source=SOURCE, actor_id=actor_id, at=at)
        except AlreadyExists:  # created by someone else between the check and the insert
            raise FieldError.conflict("Usuário ou ramal criado por outra pessoa agora há pouco.") from None
        await db.commit()
    return Outcome(user, password if generated else None)


async def _target(db: AsyncSession, user_id: int) -> User:
    user = await account_by_id(db, user_id)
    if user is None:
        raise FieldError.not_found("user_id", f"Usuário {user_id} não existe.")
    return user


async def update_user(
    sessions: async_sessionmaker[AsyncSession], user_id: int, edit: UserEdit, *, actor_id: int, at: datetime
) -> Outcome:
    """Change role, name, phone and/or whether the user may log in; a role or phone change and a
    disable end the user's sessions (their open pages close within a second)."""
    async with sessions() as db:
        user = await _target(db, user_id)
        if user.id == actor_id and edit.active is False:
            raise FieldError.conflict("Você não pode desativar o próprio usuário.", field="active")
        if user.id == actor_id and edit.role is not None and edit.role is not Role.ADMIN:
            raise FieldError.conflict("Você não pode tirar o próprio perfil de administrador.", field="role")
        try:
            change = await change_account(
                db, user.login, role=edit.role, full_name=edit.name, extension=edit.extension,
                endpoint=edit.endpoint, clear_extension=edit.clear_extension, clear_endpoint=edit.clear_endpoint,
                source=SOURCE, actor_id=actor_id, at=at,
            )
        except AccountError as exc:
            raise _refusal(exc) from None
        changed: dict[str, Any] = dict(change.after)
        ended = change.sessions_ended
        if edit.active is not None and edit.active != user.active:
            ended += await set_active(db, user.login, edit.active, source=SOURCE, actor_id=actor_id, at=at)
            changed["active"] = edit.active
        await db.commit()
    return Outcome(user, None, ended, changed)


async def reset_password(
    sessions: async_sessionmaker[AsyncSession],
    auth: Auth,
    user_id: int,
    password: str | None,
    *,
    actor_id: int,
    at: datetime,
) -> Outcome:
    """Set ``password`` (or a generated one, returned to show once); the user's sessions end."""
    async with sessions() as db:
        await _target(db, user_id)
    chosen, generated = _password(password)
    password_hash = await _hash(auth, chosen)
    async with sessions() as db:
        user = await _target(db, user_id)
        ended = await change_password_hash(
            db, user.login, password_hash, source=SOURCE, actor_id=actor_id, generated=generated, at=at
        )
        await db.commit()
    return Outcome(user, chosen if generated else None, ended)
