"""The abandon message: the shipped recording, ``cobra asterisk sounds`` and its --generate."""

from __future__ import annotations

import array
import os
import shutil
import wave
from pathlib import Path

import pytest
from click.testing import CliRunner

from dialer.asterisk import sounds
from web.cli.main import cli

SHIPPED = Path(sounds.__file__).resolve().parent
HAVE_TTS = shutil.which("espeak-ng") is not None and shutil.which("sox") is not None


def _check_wav(path: Path) -> float:
    """Asserts what Asterisk's wav format plays (8 kHz, 16-bit, mono) and that it is not silence; seconds."""
    with wave.open(str(path), "rb") as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getcomptype()) == (1, 2, 8000, "NONE")
        frames = w.readframes(w.getnframes())
        seconds = w.getnframes() / w.getframerate()
    samples = array.array("h", frames)
    assert max(abs(s) for s in samples) > 3000, "the recording is (nearly) silent"
    return seconds


def test_the_shipped_wav_is_8khz_16bit_mono_and_a_few_seconds_long() -> None:
    seconds = _check_wav(SHIPPED / "abandono.wav")
    assert 3 <= seconds <= 20


def test_the_shipped_ulaw_is_the_same_message_as_raw_8khz_mulaw() -> None:
    with wave.open(str(SHIPPED / "abandono.wav"), "rb") as w:
        frames = w.getnframes()
    # raw µ-law: one byte per sample, no header
    assert (SHIPPED / "abandono.ulaw").stat().st_size == frames


def test_install_copies_the_shipped_files(tmp_path: Path) -> None:
    dest = tmp_path / "sounds" / "pt_BR" / "cobra"
    result = CliRunner().invoke(cli, ["asterisk", "sounds", "--dir", str(dest)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in dest.iterdir()) == ["abandono.ulaw", "abandono.wav"]
    for name in ("abandono.wav", "abandono.ulaw"):
        assert (dest / name).read_bytes() == (SHIPPED / name).read_bytes()
        assert f"wrote {dest / name}" in result.output
        assert (dest / name).stat().st_mode & 0o644 == 0o644  # readable by the asterisk user


def test_help_shows_the_stock_asterisk_directory() -> None:
    result = CliRunner().invoke(cli, ["asterisk", "sounds", "--help"])
    assert result.exit_code == 0
    assert "/var/lib/asterisk/sounds/pt_BR/cobra" in result.output
    assert "--generate" in result.output


def test_the_default_directory_is_the_one_the_dialplan_checks() -> None:
    dialplan = (SHIPPED / "extensions.conf").read_text(encoding="utf-8")
    relative = sounds.DEFAULT_SOUNDS_DIR.relative_to("/var/lib/asterisk")
    for fmt in sounds.FORMATS:
        assert f"STAT(e,${{ASTDATADIR}}/{relative}/{sounds.NAME}.{fmt})" in dialplan


def test_generate_refuses_clearly_without_espeak_ng(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # a PATH with sox only (a stub: never run, since the check comes first)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    stub = bin_dir / "sox"
    stub.write_text("#!/bin/sh\nexit 1\n", encoding="utf-8")
    stub.chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    dest = tmp_path / "out"
    result = CliRunner().invoke(cli, ["asterisk", "sounds", "--generate", "--dir", str(dest)])
    assert result.exit_code == 1
    assert "espeak-ng not found on PATH" in result.output and "sox" not in result.output.split("not found")[0]
    assert "apt-get install espeak-ng sox" in result.output
    assert not dest.exists()


def test_generate_names_both_tools_when_neither_is_there(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(sounds.SoundError, match="^espeak-ng and sox not found on PATH"):
        sounds.generate(sounds.GENERIC_TEXT, tmp_path / "out")


def test_the_company_message_names_the_company_and_reads_the_phone_digit_by_digit() -> None:
    text = sounds.company_text("Recupera Bem Assessoria", "0800 123 4567")
    assert "ligação da Recupera Bem Assessoria." in text
    assert "ligue de volta para 0 8 0 0, 1 2 3, 4 5 6 7." in text
    assert sounds.spoken_phone("(11) 3000-1234") == "1 1, 3 0 0 0, 1 2 3 4"
    with pytest.raises(sounds.SoundError, match="no digits"):
        sounds.company_text("Recupera Bem", "ligue já")


def test_generic_needs_generate() -> None:
    result = CliRunner().invoke(cli, ["asterisk", "sounds", "--generic"])
    assert result.exit_code == 2 and "--generic only makes sense with --generate" in result.output


@pytest.mark.skipif(not HAVE_TTS, reason="espeak-ng and sox are not installed (apt-get install espeak-ng sox)")
def test_generate_speaks_the_configured_company_and_phone(tmp_path: Path) -> None:
    config = tmp_path / "cobra.toml"
    config.write_text('[company]\nname = "Recupera Bem Assessoria"\nphone = "0800 123 4567"\n', encoding="utf-8")
    dest = tmp_path / "cobra"
    env: dict[str, str | None] = {k: None for k in os.environ if k.startswith("COBRA_")}  # only the file counts
    result = CliRunner(env=env).invoke(cli, ["asterisk", "sounds", "--generate", "--config", str(config), "--dir", str(dest)])
    assert result.exit_code == 0, result.output
    assert "Recupera Bem Assessoria" in result.output and "0 8 0 0, 1 2 3, 4 5 6 7" in result.output
    seconds = _check_wav(dest / "abandono.wav")
    assert 3 <= seconds <= 25
    with wave.open(str(dest / "abandono.wav"), "rb") as w:
        assert (dest / "abandono.ulaw").stat().st_size == w.getnframes()
    assert (dest / "abandono.wav").read_bytes() != (SHIPPED / "abandono.wav").read_bytes()
