from __future__ import annotations

import re
from pathlib import Path

import pytest

from web.config import ConfigError, load_config


def test_defaults_give_the_embedded_setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    config = load_config(None, environ={})
    assert config.database.url == "sqlite+aiosqlite:///./cobra.db"
    assert config.pbx[0].simulator is True
    assert config.source is None


def test_cobra_toml_in_cwd_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cobra.toml").write_text('[web]\nport = 9000\n', encoding="utf-8")
    config = load_config(None, environ={})
    assert config.web.port == 9000
    assert config.source == "cobra.toml"


def test_file_then_env_overrides(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(
        """
[database]
url = "postgresql+asyncpg://cobra@db/cobra"

[[pbx]]
name = "sp1"
host = "10.0.0.5"
secret = "s3"
simulator = false
dial_template = "PJSIP/{number}@trunk"

[[pbx]]
name = "rj1"
""",
        encoding="utf-8",
    )
    env = {"COBRA_CONFIG": str(path), "COBRA_WEB__PORT": "8181", "COBRA_PBX__1__SECRET": "x y", "COBRA_PBX__0__PORT": "5039"}
    config = load_config(None, environ=env)
    assert config.database.url.startswith("postgresql+asyncpg://")
    assert config.web.port == 8181
    assert [p.name for p in config.pbx] == ["sp1", "rj1"]
    assert config.pbx[0].port == 5039 and config.pbx[0].simulator is False
    assert config.pbx[1].secret == "x y"


@pytest.mark.parametrize(
    ("toml", "key"),
    [
        ('[web]\nport = "many"\n', "web.port"),
        ('[database]\nurl = "mysql://x"\n', "database.url"),
        ('[[pbx]]\ndial_template = "PJSIP/trunk"\n', "pbx[0].dial_template"),
        ('[web]\nprot = 1\n', "web.prot"),
    ],
)
def test_bad_value_names_the_key(tmp_path: Path, toml: str, key: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(toml, encoding="utf-8")
    with pytest.raises(ConfigError, match=re.escape(f"config key '{key}'")):
        load_config(path, environ={})


def test_env_value_that_is_wrong_names_the_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match="'dialer.connect_window_s'"):
        load_config(None, environ={"COBRA_DIALER__CONNECT_WINDOW_S": "-1"})


def test_missing_and_broken_files_are_reported(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.toml", environ={})
    broken = tmp_path / "broken.toml"
    broken.write_text("[web\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="broken.toml"):
        load_config(broken, environ={})


def test_company_and_pix_sections(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(
        '[company]\nname = "Recupera Bem"\nphone = "0800 123 4567"\n\n[pix]\nkey = "financeiro@recuperabem.com.br"\n',
        encoding="utf-8",
    )
    config = load_config(path, environ={})
    assert config.company.name == "Recupera Bem" and config.pix.key == "financeiro@recuperabem.com.br"


def test_a_bad_pix_key_names_the_key(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[pix]\nkey = "123"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=re.escape("config key 'pix.key'")):
        load_config(path, environ={})


def test_trusted_proxies_and_throttling_from_file_and_env(tmp_path: Path) -> None:
    file = tmp_path / "cobra.toml"
    file.write_text('[web]\ntrusted_proxies = ["127.0.0.1/32", "10.0.0.0/8"]\nlogin_max_delay_s = 30\n', encoding="utf-8")
    web = load_config(file, environ={}).web
    assert (web.trusted_proxies, web.login_max_delay_s) == (["127.0.0.1/32", "10.0.0.0/8"], 30)
    env = {"COBRA_WEB__TRUSTED_PROXIES": "192.168.1.0/24, ::1/128", "COBRA_WEB__CLIENT_FREE_FAILURES": "50"}
    web = load_config(file, environ=env).web
    assert (web.trusted_proxies, web.client_free_failures) == (["192.168.1.0/24", "::1/128"], 50)
    assert load_config(file, environ={"COBRA_WEB__TRUSTED_PROXIES": '["10.1.0.0/16"]'}).web.trusted_proxies == [
        "10.1.0.0/16"
    ]


@pytest.mark.parametrize(
    ("toml", "key", "detail"),
    [
        ('trusted_proxies = ["10.0.0.1/8"]', "web.trusted_proxies", "'10.0.0.1/8'"),
        ('trusted_proxies = ["proxy.local"]', "web.trusted_proxies", "'proxy.local'"),
        ("login_free_failures = 0", "web.login_free_failures", ""),
        ("client_max_delay_s = 0", "web.client_max_delay_s", ""),
    ],
)
def test_bad_throttling_or_proxy_values_name_the_key(tmp_path: Path, toml: str, key: str, detail: str) -> None:
    file = tmp_path / "cobra.toml"
    file.write_text(f"[web]\n{toml}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=re.escape(f"config key '{key}'") + ".*" + re.escape(detail)):
        load_config(file, environ={})
