"""Scorecards: validating a form's items and scoring a review against it (pure).

A score is the weighted share of "sim" among the items that apply (0–100, two decimals);
an item answered null does not apply. A critical item answered "não" zeroes the score.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

MAX_ITEMS = 40
MAX_WEIGHT = 100
_KEY = re.compile(r"[a-z][a-z0-9_]{0,39}")
DEFAULT_KEY = "cobranca"


class InvalidScorecard(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True, slots=True)
class ScoreItem:
    key: str
    label: str
    weight: int
    critical: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "label": self.label, "weight": self.weight, "critical": self.critical}


@dataclass(frozen=True, slots=True)
class Score:
    value: Decimal
    zeroed: bool
    failed_critical: tuple[str, ...]


# The default pt-BR collection scorecard (issue 13 item 3)
DEFAULT_NAME = "Ficha padrão de cobrança"
DEFAULT_ITEMS: tuple[ScoreItem, ...] = (
    ScoreItem("identificou", "Identificou-se e identificou a empresa", 10),
    ScoreItem("gravacao", "Informou que a ligação é gravada", 10, critical=True),
    ScoreItem("identidade", "Confirmou a identidade antes de falar da dívida", 20, critical=True),
    ScoreItem("divida_clara", "Informou a dívida com clareza (valores, contratos, datas)", 15),
    ScoreItem("sem_constrangimento", "Não constrangeu nem ameaçou o cliente", 20, critical=True),
    ScoreItem("oferta_politica", "Ofereceu condições dentro da política", 15),
    ScoreItem("confirmou_acordo", "Repetiu e confirmou o acordo ou a promessa", 10),
)


def check_key(key: str) -> str:
    if _KEY.fullmatch(key) is None:
        raise InvalidScorecard("key", "key: use letras minúsculas, números e _ (começando por letra, até 40)")
    return key


def parse_items(raw: Sequence[Mapping[str, Any]]) -> tuple[ScoreItem, ...]:
    """Items from their JSON form; InvalidScorecard naming ``items[i].field`` otherwise."""
    if not raw:
        raise InvalidScorecard("items", "items: a ficha precisa de ao menos um item")
    if len(raw) > MAX_ITEMS:
        raise InvalidScorecard("items", f"items: no máximo {MAX_ITEMS} itens")
    out: list[ScoreItem] = []
    seen: set[str] = set()
    for i, item in enumerate(raw):
        key, label, weight, critical = item.get("key"), item.get("label"), item.get("weight"), item.get("critical", False)
        if not isinstance(key, str) or _KEY.fullmatch(key) is None:
            raise InvalidScorecard(f"items[{i}].key", f"items[{i}].key: use letras minúsculas, números e _")
        if key in seen:
            raise InvalidScorecard(f"items[{i}].key", f"items[{i}].key: {key} repetido")
        seen.add(key)
        if not isinstance(label, str) or not label.strip() or len(label) > 200:
            raise InvalidScorecard(f"items[{i}].label", f"items[{i}].label: informe o texto do item (até 200)")
        if isinstance(weight, bool) or not isinstance(weight, int) or not 1 <= weight <= MAX_WEIGHT:
            raise InvalidScorecard(f"items[{i}].weight", f"items[{i}].weight: use um inteiro de 1 a {MAX_WEIGHT}")
        if not isinstance(critical, bool):
            raise InvalidScorecard(f"items[{i}].critical", f"items[{i}].critical: use true ou false")
        out.append(ScoreItem(key, label.strip(), weight, critical))
    return tuple(out)


def score(items: Sequence[ScoreItem], answers: Mapping[str, bool | None]) -> Score:
    """The review's score; InvalidScorecard("answers.<key>") for a missing or unknown item."""
    keys = {i.key for i in items}
    for key in answers:
        if key not in keys:
            raise InvalidScorecard(f"answers.{key}", f"answers.{key}: item desconhecido nesta ficha")
    total = Decimal(0)
    got = Decimal(0)
    failed: list[str] = []
    for item in items:
        if item.key not in answers:
            raise InvalidScorecard(f"answers.{item.key}", f"answers.{item.key}: responda sim, não ou não se aplica")
        answer = answers[item.key]
        if answer is None:
            continue
        if not isinstance(answer, bool):
            raise InvalidScorecard(f"answers.{item.key}", f"answers.{item.key}: use true, false ou null")
        total += item.weight
        if answer:
            got += item.weight
        elif item.critical:
            failed.append(item.key)
    if failed:
        return Score(Decimal("0.00"), True, tuple(failed))
    value = Decimal("100.00") if total == 0 else (got * 100 / total).quantize(Decimal("0.01"), ROUND_HALF_UP)
    return Score(value, False, ())


__all__ = [
    "DEFAULT_ITEMS", "DEFAULT_KEY", "DEFAULT_NAME", "InvalidScorecard", "Score", "ScoreItem", "check_key",
    "parse_items", "score",
]
