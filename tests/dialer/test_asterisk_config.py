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


def _priorities(context: str) -> list[str]:
    """The ``App(data)`` of each priority of ``context`` in the shipped extensions.conf, in order."""
    apps: list[str] = []
    section = None
    for raw in (ASTERISK / "extensions.conf").read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith(";"):
            continue
        if line.startswith("["):
            section = line.strip("[]")
        elif section == context:
            # "exten => s,1,App(data)" or "same => n(label),App(data)"
            head, body = (part.strip() for part in line.split("=>", 1))
            apps.append(body.split(",", 2 if head == "exten" else 1)[-1])
    return apps


def test_the_abandon_message_is_played_only_when_its_file_exists() -> None:
    steps = _priorities("cobra-outbound")
    assert [s.split("(", 1)[0] for s in steps] == ["NoOp", "Set", "Wait", "NoOp", "ExecIf", "Hangup"]
    assert steps[3] == "NoOp(abandoned ${COBRA_CALL})" and steps[5] == "Hangup(16)"
    guard = steps[4]
    match = re.fullmatch(
        r"ExecIf\(\$\[\$\{STAT\(e,(?P<a>[^)]+)\.wav\)\} \| \$\{STAT\(e,(?P<b>[^)]+)\.ulaw\)\}\]\?Playback\((?P<c>[^)]+)\)\)",
        guard,
    )
    assert match is not None, guard
    # the file checked is the file played, under Asterisk's own data directory
    assert match["a"] == match["b"] == match["c"] == "${ASTDATADIR}/sounds/pt_BR/cobra/abandono"
    # no other, unguarded playback anywhere
    text = (ASTERISK / "extensions.conf").read_text(encoding="utf-8")
    code = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith(";"))
    assert code.count("Playback(") == 1
