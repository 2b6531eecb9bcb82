"""Account rules (what ``cobra user add`` accepts) and the account operations on a real database."""

from __future__ import annotations

from datetime import timedelta

import pytest

from storage.engine import create_engine, session_factory
from storage.errors import AlreadyExists, NotFound
from storage.models import Role
from tests.web.conftest import FAST_HASHER, Clock
from web.auth.accounts import (
    AccountError,
    NewAccount,
    add_account,
    change_password,
    check_new_account,
    list_accounts,
    set_active,
)
from web.auth.passwords import verify_password
from web.auth.sessions import create_session, load_session


def test_agent_account_is_normalised() -> None:
    account = check_new_account(" Ana.Souza ", "agent", "  Ana Souza ", "7001", "PJSIP/7001")
    assert account == NewAccount("ana.souza", Role.AGENT, "Ana Souza", "7001", "PJSIP/7001")


def test_name_defaults_to_the_login_and_staff_need_no_phone() -> None:
    assert check_new_account("root", Role.ADMIN) == NewAccount("root", Role.ADMIN, "root")
    assert check_new_account("sofia", "supervisor", endpoint="PJSIP/7100").endpoint == "PJSIP/7100"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("ana", "agent", None, None, None), "agents need --extension and --endpoint"),
        (("ana", "agent", None, "7001", None), "agents need --endpoint"),
        (("ana", "agent", None, None, "PJSIP/7001"), "agents need --extension"),
        (("sofia", "supervisor", None, "7100", None), "--extension needs --endpoint"),
        (("ana", "agent", None, "70a1", "PJSIP/7001"), "--extension '70a1'"),
        (("ana", "agent", None, "7001", "PJSIP/7001\r\nAction: Originate"), "--endpoint: contains a line break"),
        (("ana", "agent", None, "7001", "7001"), "--endpoint: is not a channel"),
        (("a", "qa", None, None, None), "LOGIN 'a'"),
        (("ana souza", "qa", None, None, None), "LOGIN 'ana souza'"),
        (("ana", "boss", None, None, None), "--role 'boss'"),
        (("ana", "qa", "Ana\nSouza", None, None), "--name: must not contain line breaks"),
        (("ana", "qa", "x" * 121, None, None), "--name: must have 1 to 120"),
    ],
)
def test_bad_accounts_name_the_problem(args: tuple[str, str, str | None, str | None, str | None], message: str) -> None:
    with pytest.raises(AccountError, match=message.replace("(", r"\(")):
        check_new_account(*args)


async def test_add_list_passwd_disable(db_url: str, clock: Clock) -> None:
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as db:
            ana = await add_account(
                db, FAST_HASHER, check_new_account("ana", "agent", "Ana", "7001", "PJSIP/7001"), "primeira-1"
            )
            await add_account(db, FAST_HASHER, check_new_account("root", "admin"), "primeira-1")
            with pytest.raises(AlreadyExists, match="login 'ana'"):
                await add_account(db, FAST_HASHER, check_new_account("ana", "qa"), "primeira-1")
            with pytest.raises(AlreadyExists, match="extension '7001'"):
                await add_account(
                    db, FAST_HASHER, check_new_account("bia", "agent", None, "7001", "PJSIP/7002"), "primeira-1"
                )
            assert [u.login for u in await list_accounts(db)] == ["root", "ana"]

            s1 = await create_session(db, ana, now=clock(), ttl=timedelta(hours=1), ip=None, user_agent=None)
            assert await change_password(db, FAST_HASHER, "ANA", "segunda-22") == 1
            assert verify_password(FAST_HASHER, ana.password_hash, "segunda-22")
            assert await load_session(db, s1.token, now=clock()) is None

            await create_session(db, ana, now=clock(), ttl=timedelta(hours=1), ip=None, user_agent=None)
            assert await set_active(db, "ana", False) == 1
            assert ana.active is False
            assert await set_active(db, "ana", True) == 0
            with pytest.raises(NotFound, match="no user with login 'zeca'"):
                await set_active(db, "zeca", False)
    finally:
        await engine.dispose()
