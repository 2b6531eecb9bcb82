"""``[recording]`` in cobra.toml: dir and url_template, checked at load with the key named."""

from __future__ import annotations

from pathlib import Path

import pytest

from web.agent.dialer import dialer_settings_from
from web.config import ConfigError, load_config


def _load(tmp_path: Path, text: str, environ: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    path = tmp_path / "cobra.toml"
    path.write_text(text, encoding="utf-8")
    return load_config(path, environ=environ or {})


def test_dir_and_template_reach_the_dialer_and_the_endpoint(tmp_path: Path) -> None:
    config = _load(tmp_path, '[recording]\ndir = "/srv/gravacoes"\nurl_template = "https://rec.example/{path}"\n')
    settings = dialer_settings_from(config)
    assert settings.recording is True and str(settings.recordings_dir) == "/srv/gravacoes"
    assert config.recording.url_template == "https://rec.example/{path}"


def test_no_dir_means_no_recording_and_the_older_key_still_works(tmp_path: Path) -> None:
    assert dialer_settings_from(_load(tmp_path, "")).recording is False
    old = _load(tmp_path, '[dialer]\nrecordings_dir = "/var/rec"\n')
    assert old.recording.directory(old.dialer) == "/var/rec" and dialer_settings_from(old).recording is True
    both = _load(tmp_path, '[dialer]\nrecordings_dir = "/var/rec"\n[recording]\ndir = "/srv/new"\n')
    assert str(dialer_settings_from(both).recordings_dir) == "/srv/new"


def test_the_environment_overrides_the_dir(tmp_path: Path) -> None:
    config = _load(tmp_path, "", {"COBRA_RECORDING__DIR": "/mnt/rec"})
    assert config.recording.dir == "/mnt/rec"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('dir = "/srv/gravações"', "recording.dir"),
        ('dir = "/srv/my recordings"', "recording.dir"),
        ('dir = "/srv/../etc"', "'..'"),
        ('url_template = "https://rec.example/"', "{path}"),
        ('url_template = "ftp://rec.example/{path}"', "http(s)"),
        ('url_template = "https://rec.example/{path}?k={key}"', "only placeholder"),
    ],
)
def test_bad_values_name_the_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match="recording") as info:
        _load(tmp_path, f"[recording]\n{text}\n")
    assert message in str(info.value)
