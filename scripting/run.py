"""A script run: the path an agent takes through a script during one call (pure model).

Timestamps are passed in (timezone-aware), so the model has no clock. The run knows
whether the identity gate was passed and refuses to enter a step that shows debt
details before it, even if the script was not validated.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from markupsafe import Markup

from scripting.render import TemplateContext, check_template, render_text
from scripting.script import Action, Choice, Script, Step


class RunError(ValueError):
    """An invalid move in a run (unknown choice, bad capture, finished run, identity gate)."""


@dataclass(frozen=True)
class RunEntry:
    """One visited step and, once left, the choice taken."""

    step_id: str
    entered_at: datetime
    choice_id: str | None = None
    chosen_at: datetime | None = None
    capture_key: str | None = None
    capture_value: str | None = None


class ScriptRun:
    """Advances by choice id; records the path, captures, identity and outcome."""

    def __init__(self, script: Script, started_at: datetime) -> None:
        _require_aware(started_at, "started_at")
        self.script = script
        self.entries: list[RunEntry] = [RunEntry(script.start, started_at)]
        self.captures: dict[str, str] = {}
        self.identity_confirmed_at: datetime | None = None
        self.outcome: str | None = None
        self.finished_at: datetime | None = None
        self._check_gate(script.step(script.start))

    @property
    def identity_confirmed(self) -> bool:
        return self.identity_confirmed_at is not None

    @property
    def finished(self) -> bool:
        return self.outcome is not None

    @property
    def current_step(self) -> Step:
        if self.finished:
            raise RunError(f"o roteiro já terminou com o resultado {self.outcome}")
        return self.script.step(self.entries[-1].step_id)

    @property
    def path(self) -> list[str]:
        return [entry.step_id for entry in self.entries]

    def available_actions(self) -> tuple[Action, ...]:
        """The current step's actions (e.g. open the offer calculator)."""
        return self.current_step.actions

    def choose(self, choice_id: str, at: datetime, capture: str | None = None) -> Choice:
        """Takes ``choice_id`` on the current step at ``at``; returns the choice taken."""
        _require_aware(at, "at")
        step = self.current_step
        last = self.entries[-1]
        if at < last.entered_at:
            raise RunError(f"at: {at.isoformat()} é anterior à entrada no passo ({last.entered_at.isoformat()})")
        try:
            choice = step.choice(choice_id)
        except KeyError:
            known = ", ".join(c.id for c in step.choices)
            raise RunError(f"passo {step.id}: não há a escolha '{choice_id}' (escolhas: {known})") from None
        value = self._capture_value(step, choice, capture)
        if choice.next is not None:
            target = self.script.step(choice.next)
            self._check_gate(target, confirming=choice.confirms_identity)
        self.entries[-1] = replace(
            last,
            choice_id=choice.id,
            chosen_at=at,
            capture_key=choice.capture.key if choice.capture else None,
            capture_value=value,
        )
        if choice.capture is not None and value is not None:
            self.captures[choice.capture.key] = value
        if choice.confirms_identity and self.identity_confirmed_at is None:
            self.identity_confirmed_at = at
        if choice.dispose is not None:
            self.outcome = choice.dispose
            self.finished_at = at
        else:
            assert choice.next is not None
            self.entries.append(RunEntry(choice.next, at))
        return choice

    def render_current(self, context: TemplateContext) -> Markup:
        """The current step's text for this call (debt namespaces only after identity)."""
        return render_text(self.current_step.text, context, identity_confirmed=self.identity_confirmed)

    def to_record(self) -> dict[str, Any]:
        """A JSON-ready record of the run, stored with the call."""
        return {
            "script_id": self.script.id,
            "script_version": self.script.version,
            "identity_confirmed_at": self.identity_confirmed_at.isoformat() if self.identity_confirmed_at else None,
            "outcome": self.outcome,
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "captures": dict(self.captures),
            "steps": [
                {
                    "step_id": e.step_id,
                    "entered_at": e.entered_at.isoformat(),
                    "choice_id": e.choice_id,
                    "chosen_at": e.chosen_at.isoformat() if e.chosen_at else None,
                    "capture_key": e.capture_key,
                    "capture_value": e.capture_value,
                }
                for e in self.entries
            ],
        }

    def _capture_value(self, step: Step, choice: Choice, capture: str | None) -> str | None:
        if choice.capture is None:
            if capture is not None:
                raise RunError(f"passo {step.id}: a escolha '{choice.id}' não registra valor, mas recebeu {capture!r}")
            return None
        if capture is None or not capture.strip():
            raise RunError(f"passo {step.id}: a escolha '{choice.id}' precisa de um valor para '{choice.capture.key}'")
        if choice.capture.catalogue and capture not in choice.capture.codes():
            codes = ", ".join(sorted(choice.capture.codes()))
            raise RunError(f"passo {step.id}: '{capture}' não está no catálogo de '{choice.capture.key}' ({codes})")
        return capture.strip()

    def _check_gate(self, step: Step, confirming: bool = False) -> None:
        if self.identity_confirmed or confirming:
            return
        reveals = check_template(step.text).reveals_debt or step.requires_identity or (
            Action.OPEN_OFFER_CALCULATOR in step.actions
        )
        if reveals:
            raise RunError(f"passo {step.id}: mostra dados da dívida e a identidade não foi confirmada")


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise RunError(f"{name}: deve ter fuso horário (guarde em UTC), recebeu {value.isoformat()}")
