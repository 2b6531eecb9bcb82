"""What a promise to pay may be (pure): at least the policy's minimum, at most the updated
balance, and due within the policy's horizon. A promise of R$ 999.999,00 on a debt of a
few thousand, or for next year, is a typing slip: refused with the bounds in the message."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from scripting.money import format_brl, format_date_br


class PromiseRefused(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True)
class PromiseLimits:
    minimum: Decimal  # the policy's smallest payment (never above the balance)
    maximum: Decimal  # the updated balance (total atualizado)
    today: date
    last_day: date  # today + the policy's maximum days

    @classmethod
    def of(cls, balance: Decimal, policy_minimum: Decimal, today: date, max_days: int) -> PromiseLimits:
        return cls(min(policy_minimum, balance), balance, today, today + timedelta(days=max_days))

    def check(self, amount: Decimal, due: date) -> None:
        if amount > self.maximum:
            raise PromiseRefused(
                "promise_amount", f"o valor prometido passa do total atualizado da dívida ({format_brl(self.maximum)})"
            )
        if amount < self.minimum:
            raise PromiseRefused(
                "promise_amount", f"o valor prometido está abaixo do mínimo da política ({format_brl(self.minimum)})"
            )
        if due < self.today:
            raise PromiseRefused("promise_date", "a data da promessa não pode estar no passado")
        if due > self.last_day:
            raise PromiseRefused(
                "promise_date", f"a data passa do prazo máximo da política ({format_date_br(self.last_day)}); registre um acordo"
            )

    def text(self) -> str:
        return (
            f"Promessa: de {format_brl(self.minimum)} até {format_brl(self.maximum)}, "
            f"com pagamento até {format_date_br(self.last_day)}."
        )

    def view(self) -> dict[str, str]:
        return {"minimum": str(self.minimum), "maximum": str(self.maximum), "last_day": self.last_day.isoformat(),
                "text": self.text()}
