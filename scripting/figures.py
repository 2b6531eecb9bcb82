"""One set of money words for a debt: valor original, encargos, total atualizado (pure).

Every place the agent reads the debt — the debts table, the offer calculator and the
script's text — takes its figures from here, computed once from the same
:class:`~scripting.debt.DebtBreakdown`, so the screen never shows two "originals" or two
totals. The words:

* **valor original** — the principal the charges are computed on (the debt's balance at
  its due date);
* **encargos** — correção monetária + multa + juros de mora;
* **total atualizado** — valor original + encargos − desconto.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from scripting.debt import DebtBreakdown
from scripting.money import format_brl

PRINCIPAL_WORD = "Valor original"
CHARGES_WORD = "Encargos"
TOTAL_WORD = "Total atualizado"


@dataclass(frozen=True, slots=True)
class DebtFigures:
    principal: Decimal
    correction: Decimal
    fine: Decimal
    interest: Decimal
    discount: Decimal
    total: Decimal

    @property
    def charges(self) -> Decimal:
        """Correção + multa + juros."""
        return self.correction + self.fine + self.interest

    def view(self) -> dict[str, str]:
        """JSON-ready: amounts as ``"1234.56"`` and as ``"R$ 1.234,56"`` (``*_text``)."""
        out: dict[str, str] = {}
        for name in ("principal", "correction", "fine", "interest", "discount", "total", "charges"):
            value: Decimal = getattr(self, name)
            out[name] = str(value)
            out[f"{name}_text"] = format_brl(value)
        return out


def figures_of(breakdown: DebtBreakdown) -> DebtFigures:
    """The figures of ``breakdown``; they add up: principal + charges − discount == total."""
    figures = DebtFigures(
        principal=breakdown.principal,
        correction=breakdown.correction,
        fine=breakdown.fine,
        interest=breakdown.interest,
        discount=breakdown.discount,
        total=breakdown.total,
    )
    assert figures.principal + figures.charges - figures.discount == figures.total  # DebtBreakdown sums rounded items
    return figures


__all__ = ["CHARGES_WORD", "PRINCIPAL_WORD", "TOTAL_WORD", "DebtFigures", "figures_of"]
