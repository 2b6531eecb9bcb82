"""The abandon message the dialplan plays (``cobra-outbound`` in ``extensions.conf``).

A generic pt-BR recording ships next to this module (``abandono.wav``: 8 kHz, 16-bit, mono
signed linear; ``abandono.ulaw``: raw µ-law 8 kHz), made with espeak-ng and sox. SPEC §3
wants the message to name the company and a number to call back, so :func:`generate`
speaks a text with both, when espeak-ng and sox are on the machine.

The dialplan plays ``${ASTDATADIR}/sounds/pt_BR/cobra/abandono`` only when that file exists
(``STAT(e,...)``): with a stock Asterisk ``ASTDATADIR`` is ``/var/lib/asterisk``, hence
:data:`DEFAULT_SOUNDS_DIR`.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

NAME = "abandono"
FORMATS: tuple[str, ...] = ("wav", "ulaw")
SHIPPED_DIR = Path(__file__).resolve().parent
# astdatadir of an Asterisk built from source (asterisk.conf [directories]) + sounds/pt_BR/cobra,
# the path extensions.conf checks
DEFAULT_SOUNDS_DIR = Path("/var/lib/asterisk/sounds/pt_BR/cobra")

GENERIC_TEXT = (
    "Olá. Esta é uma ligação da central de atendimento. "
    "Todos os nossos atendentes estão ocupados no momento. "
    "Por favor, ligue de volta para o número que aparece no seu telefone. Obrigado."
)
TOOLS: tuple[str, ...] = ("espeak-ng", "sox")
VOICE = "pt-br"
# words per minute: a little faster than espeak-ng's 175 default would be hard to follow on
# a phone line; slower makes the abandoned caller wait longer
SPEED_WPM = 160


class SoundError(Exception):
    """The message cannot be made or installed; the text says why and what to do."""


def shipped_files() -> list[Path]:
    """The generic recording in every format it ships in."""
    files = [SHIPPED_DIR / f"{NAME}.{fmt}" for fmt in FORMATS]
    missing = [f.name for f in files if not f.is_file()]
    if missing:
        raise SoundError(f"the package is missing {', '.join(missing)} (reinstall cobra-collections)")
    return files


def install(dest: Path, sources: list[Path] | None = None) -> list[Path]:
    """Copy the recording (the shipped one by default) into ``dest``, creating it; the files written."""
    files = shipped_files() if sources is None else sources
    try:
        dest.mkdir(parents=True, exist_ok=True)
        written = []
        for src in files:
            target = dest / src.name
            # write beside, then rename: Asterisk never opens a half-copied file mid-call
            tmp = dest / f".{src.name}.tmp"
            shutil.copyfile(src, tmp)
            tmp.chmod(0o644)
            tmp.replace(target)
            written.append(target)
    except PermissionError as exc:
        raise SoundError(
            f"cannot write to {exc.filename or dest}: permission denied "
            "(run as root or as the user Asterisk runs as, or choose --dir)"
        ) from None
    except OSError as exc:
        raise SoundError(f"cannot write to {dest}: {exc.strerror or exc}") from None
    return written


def spoken_phone(phone: str) -> str:
    """A phone number as text a synthesiser reads digit by digit, pausing between groups.

    ``0800 123 4567`` → ``0 8 0 0, 1 2 3, 4 5 6 7`` (espeak-ng would read "0800" as
    "oitocentos", which nobody can dial).
    """
    groups = re.findall(r"\d+", phone)
    if not groups:
        raise SoundError(f"[company] phone {phone!r} has no digits to read out")
    return ", ".join(" ".join(group) for group in groups)


def company_text(company: str, phone: str) -> str:
    """The abandon message naming the collection company and the number to call back (SPEC §3)."""
    name = company.strip()
    if not name:
        raise SoundError("[company] name is empty")
    return (
        f"Olá. Esta é uma ligação da {name}. "
        "Todos os nossos atendentes estão ocupados no momento. "
        f"Por favor, ligue de volta para {spoken_phone(phone)}. Obrigado."
    )


def missing_tools(which: Callable[[str], str | None] = shutil.which) -> list[str]:
    return [tool for tool in TOOLS if which(tool) is None]


def generate(text: str, dest: Path, which: Callable[[str], str | None] = shutil.which) -> list[Path]:
    """Speak ``text`` with espeak-ng (pt-BR) and write ``abandono.wav``/``.ulaw`` into ``dest``."""
    missing = missing_tools(which)
    if missing:
        raise SoundError(
            f"{' and '.join(missing)} not found on PATH: install them (Debian/Ubuntu: "
            "apt-get install espeak-ng sox) or install the shipped generic message instead"
        )
    espeak, sox = which("espeak-ng"), which("sox")
    assert espeak is not None and sox is not None
    with tempfile.TemporaryDirectory(prefix="cobra-sound-") as tmp:
        work = Path(tmp)
        spoken = work / "spoken.wav"
        _run([espeak, "-v", VOICE, "-s", str(SPEED_WPM), "-w", str(spoken), text])
        # Asterisk's wav format is 8 kHz 16-bit mono signed linear; ulaw is raw G.711 µ-law,
        # which a G.711 call plays without transcoding. norm: the same loudness whatever the text.
        _run([sox, str(spoken), "-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer",
              str(work / f"{NAME}.wav"), "norm", "-3"])
        _run([sox, str(spoken), "-t", "ul", "-r", "8000", "-c", "1", str(work / f"{NAME}.ulaw"), "norm", "-3"])
        return install(dest, [work / f"{NAME}.{fmt}" for fmt in FORMATS])


def _run(argv: list[str]) -> None:
    try:
        subprocess.run(argv, check=True, capture_output=True, text=True)
    except subprocess.CalledProcessError as exc:
        detail = (exc.stderr or exc.stdout or "").strip().splitlines()
        raise SoundError(f"{Path(argv[0]).name} failed (exit {exc.returncode}): {detail[-1] if detail else 'no output'}") from None
