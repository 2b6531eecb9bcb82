from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from web.auth.settings import AuthSettings
from web.config import Config, load_config


def test_settings_come_from_the_web_section(tmp_path: Path) -> None:
    file = tmp_path / "cobra.toml"
    file.write_text("[web]\nsecure_cookies = true\nsession_hours = 9.5\n", encoding="utf-8")
    settings = AuthSettings.from_config(load_config(file, environ={}).web)
    assert settings.secure_cookies is True
    assert settings.session_ttl == timedelta(hours=9, minutes=30)


def test_defaults_are_a_shift_over_plain_http() -> None:
    settings = AuthSettings.from_config(Config().web)
    assert (settings.session_ttl, settings.secure_cookies) == (timedelta(hours=12), False)
