"""``cobra user`` end to end: the real command on a real, migrated SQLite file."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from click.testing import CliRunner, Result

from storage.engine import create_engine, session_factory
from storage.repositories.audit import entries_for
from storage.repositories.users import get_user_by_login
from web.auth.passwords import verify_password
from web.cli import user as user_cli
from web.cli.main import cli


@pytest.fixture
def config_file(db_url: str, tmp_path: Path) -> str:
    path = tmp_path / "cobra.toml"
    path.write_text(f'[database]\nurl = "{db_url}"\n', encoding="utf-8")
    return str(path)


def run(config_file: str, *args: str, password: str | None = None, input_: str | None = None) -> Result:
    stdin = input_ if input_ is not None else (f"{password}\n" if password is not None else None)
    extra = ["--password-stdin"] if password is not None else []
    return CliRunner().invoke(cli, ["user", *args, *extra, "--config", config_file], input=stdin)


def stored_hash(db_url: str, login: str) -> str:
    async def fetch() -> str:
        engine = create_engine(db_url)
        try:
            async with session_factory(engine)() as db:
                user = await get_user_by_login(db, login)
                assert user is not None
                return user.password_hash
        finally:
            await engine.dispose()

    return asyncio.run(fetch())


def test_add_an_agent_then_list(config_file: str, db_url: str) -> None:
    result = run(
        config_file,
        "add",
        "ana",
        "--role",
        "agent",
        "--name",
        "Ana Souza",
        "--extension",
        "7001",
        "--endpoint",
        "PJSIP/7001",
        password="senha-forte-1",
    )
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "user ana added: Ana Souza (agent, extension 7001 on PJSIP/7001)"
    assert verify_password(PasswordHasher(), stored_hash(db_url, "ana"), "senha-forte-1")
    assert run(config_file, "add", "root", "--role", "admin", password="senha-forte-1").exit_code == 0
    listing = run(config_file, "list")
    lines = listing.output.splitlines()
    assert lines[0].split() == ["LOGIN", "ROLE", "NAME", "EXTENSION", "ENDPOINT", "STATUS"]
    assert lines[1].split() == ["root", "admin", "root", "-", "-", "active"]
    assert lines[2].split() == ["ana", "agent", "Ana", "Souza", "7001", "PJSIP/7001", "active"]


def test_agent_without_extension_is_refused(config_file: str) -> None:
    result = run(config_file, "add", "ana", "--role", "agent", password="senha-forte-1")
    assert result.exit_code == 2
    assert "agents need --extension and --endpoint" in result.output
    assert "no users yet" in run(config_file, "list").output


def test_duplicate_login_is_refused(config_file: str) -> None:
    assert run(config_file, "add", "sofia", "--role", "supervisor", password="senha-forte-1").exit_code == 0
    again = run(config_file, "add", "Sofia", "--role", "qa", password="senha-forte-1")
    assert again.exit_code == 1
    assert "Error: login 'sofia' is already taken" in again.output


def test_short_password_and_missing_password_are_refused(config_file: str) -> None:
    short = run(config_file, "add", "root", "--role", "admin", password="curta")
    assert (short.exit_code, "at least 8 characters" in short.output) == (1, True)
    no_tty = run(config_file, "add", "root", "--role", "admin", input_="")
    assert no_tty.exit_code == 1
    assert "pass --password-stdin" in no_tty.output


def test_password_typed_twice_on_a_terminal(config_file: str, db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(user_cli, "_stdin_is_terminal", lambda: True)
    result = run(config_file, "add", "root", "--role", "admin", input_="senha-forte-1\nsenha-forte-1\n")
    assert result.exit_code == 0, result.output
    assert verify_password(PasswordHasher(), stored_hash(db_url, "root"), "senha-forte-1")
    mismatch = run(config_file, "passwd", "root", input_="senha-forte-2\noutra-senha-3\n")
    assert mismatch.exit_code != 0
    assert "do not match" in mismatch.output
    assert verify_password(PasswordHasher(), stored_hash(db_url, "root"), "senha-forte-1")


def test_passwd_disable_enable(config_file: str, db_url: str) -> None:
    assert run(config_file, "add", "quito", "--role", "qa", password="senha-forte-1").exit_code == 0
    changed = run(config_file, "passwd", "quito", password="senha-nova-22")
    assert changed.output.strip() == "password of quito changed; 0 open session(s) ended"
    assert verify_password(PasswordHasher(), stored_hash(db_url, "quito"), "senha-nova-22")
    assert run(config_file, "disable", "quito").output.strip() == "user quito disabled; 0 open session(s) ended"
    assert "disabled" in run(config_file, "list").output
    assert run(config_file, "enable", "quito").exit_code == 0
    missing = run(config_file, "disable", "zeca")
    assert (missing.exit_code, "no user with login 'zeca'" in missing.output) == (1, True)


def test_unmigrated_database_says_to_upgrade(tmp_path: Path) -> None:
    config = tmp_path / "cobra.toml"
    config.write_text(f'[database]\nurl = "sqlite+aiosqlite:///{tmp_path / "empty.db"}"\n', encoding="utf-8")
    result = run(str(config), "list")
    assert result.exit_code == 1
    assert "run `cobra db upgrade` first" in result.output


def audit_of(db_url: str, login: str) -> list[tuple[str, int | None, dict[str, object] | None, dict[str, object] | None]]:
    async def fetch() -> list[tuple[str, int | None, dict[str, object] | None, dict[str, object] | None]]:
        engine = create_engine(db_url)
        try:
            async with session_factory(engine)() as db:
                user = await get_user_by_login(db, login)
                assert user is not None
                entries = await entries_for(db, "user", user.id, oldest_first=True)
                return [(e.action, e.user_id, e.before, e.after) for e in entries]
        finally:
            await engine.dispose()

    return asyncio.run(fetch())


def test_every_user_command_is_audited_as_done_from_the_cli(config_file: str, db_url: str) -> None:
    assert run(config_file, "add", "sofia", "--role", "supervisor", "--name", "Sofia Lima", password="senha-forte-1").exit_code == 0
    assert run(config_file, "passwd", "sofia", password="outra-senha-2").exit_code == 0
    assert run(config_file, "disable", "sofia").exit_code == 0
    assert run(config_file, "enable", "sofia").exit_code == 0
    changed = run(config_file, "set", "sofia", "--role", "qa")
    assert changed.exit_code == 0, changed.output
    assert changed.output.strip() == "user sofia: role supervisor → qa; 0 open session(s) ended"
    entries = audit_of(db_url, "sofia")
    assert [e[0] for e in entries] == ["user.add", "user.passwd", "user.disable", "user.enable", "user.change"]
    assert all(user_id is None and after is not None and after["source"] == "cli" for _, user_id, _, after in entries)
    assert entries[0][3] == {
        "login": "sofia", "role": "supervisor", "full_name": "Sofia Lima", "extension": None, "endpoint": None,
        "source": "cli",
    }
    assert (entries[2][2], entries[2][3]) == ({"active": True}, {"active": False, "sessions_ended": 0, "login": "sofia", "source": "cli"})
    assert (entries[4][2], entries[4][3]) == ({"role": "supervisor"}, {"role": "qa", "sessions_ended": 0, "login": "sofia", "source": "cli"})
    # no password, nor its hash, in the audit log
    text = str(entries)
    assert "senha" not in text and "argon2" not in text


def test_set_validates_like_add(config_file: str) -> None:
    assert run(config_file, "add", "ana", "--role", "agent", "--extension", "7001", "--endpoint", "PJSIP/7001",
               password="senha-forte-1").exit_code == 0
    assert run(config_file, "add", "bia", "--role", "agent", "--extension", "7002", "--endpoint", "PJSIP/7002",
               password="senha-forte-1").exit_code == 0
    taken = run(config_file, "set", "bia", "--extension", "7001")
    assert taken.exit_code == 2 and "already assigned to ana" in taken.output
    no_phone = run(config_file, "set", "bia", "--no-phone")
    assert no_phone.exit_code == 2 and "agents need --extension and --endpoint" in no_phone.output
    moved = run(config_file, "set", "bia", "--extension", "7003", "--endpoint", "PJSIP/7003")
    assert moved.exit_code == 0
    assert "extension 7002 → 7003, endpoint PJSIP/7002 → PJSIP/7003" in moved.output
    assert run(config_file, "set", "bia", "--name", "bia").output.strip() == "user bia: nothing to change"
    assert run(config_file, "set", "zeca", "--role", "qa").exit_code == 1
