"""The shipped Asterisk configuration agrees with what the code asks Asterisk for."""

from __future__ import annotations

import re
from pathlib import Path

from dialer.ami.actions import DEFAULT_EVENT_CLASSES

ASTERISK = Path(__file__).resolve().parents[2] / "dialer" / "asterisk"


def _account_lines(name: str) -> list[str]:
    lines: list[str] = []
    section = None
    for raw in (ASTERISK / "manager.conf").read_text(encoding="utf-8").splitlines():
        line = raw.split(";", 1)[0].strip()
        if line.startswith("["):
            section = line.strip("[]")
        elif section == name and line:
            lines.append(line)
    return lines


def test_manager_account_reads_exactly_the_event_classes_cobra_logs_in_with() -> None:
    [read] = [line for line in _account_lines("cobra") if re.match(r"read\s*=", line)]
    classes = [c.strip() for c in read.split("=", 1)[1].split(",")]
    assert classes == list(DEFAULT_EVENT_CLASSES)


def test_manager_conf_comment_names_the_login_event_classes() -> None:
    text = (ASTERISK / "manager.conf").read_text(encoding="utf-8")
    assert f"Events: {','.join(DEFAULT_EVENT_CLASSES)}" in text
    readme = (ASTERISK / "README.md").read_text(encoding="utf-8")
    assert f"read = {','.join(DEFAULT_EVENT_CLASSES)}" in readme
