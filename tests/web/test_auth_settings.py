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


def test_throttling_and_trusted_proxies_come_from_the_web_section(tmp_path: Path) -> None:
    file = tmp_path / "cobra.toml"
    file.write_text('[web]\ntrusted_proxies = ["127.0.0.1/32"]\nlogin_free_failures = 7\n', encoding="utf-8")
    settings = AuthSettings.from_config(load_config(file, environ={}).web)
    assert [str(n) for n in settings.trusted_proxies] == ["127.0.0.1/32"]
    assert (settings.login_free_failures, settings.login_max_delay_s, settings.client_max_delay_s) == (7, 60.0, 900.0)
