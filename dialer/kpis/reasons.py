"""The reasons-for-default catalogue, read from the scripts' ``motivo_atraso`` captures (SPEC §7, §8).

The default script lists financial reasons and company-caused ones (``company_caused: true``);
a published script may add its own. Codes are read from every script given, the later
ones' labels winning, so a report can classify reasons recorded under any of them.
"""

from __future__ import annotations

from collections.abc import Iterable

from dialer.kpis.figures import REASON_CAPTURE_KEY, ReasonCatalogue
from scripting.script import Script


def reason_catalogue(scripts: Iterable[Script]) -> ReasonCatalogue:
    """Code → (label, company-caused?) over the reason captures of ``scripts``."""
    items: dict[str, tuple[str, bool]] = {}
    for script in scripts:
        for step in script.steps:
            for choice in step.choices:
                capture = choice.capture
                if capture is None or capture.key != REASON_CAPTURE_KEY:
                    continue
                for item in capture.catalogue:
                    items[item.code] = (item.label, item.company_caused)
    return ReasonCatalogue(items)


__all__ = ["reason_catalogue"]
