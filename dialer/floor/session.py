"""The call session: what one agent's current call has reached — pop, script run, identity, quote (pure).

One :class:`CallSession` per agent and call, owned by the floor: it opens when the floor
pops the call on the agent's screen and closes when the agent leaves the call (disposed,
released, logged out). The web layer renders it (script text, offers) and asks the floor
for it; nothing else keeps a copy. The identity confirmation time lives in the script
run (``run.identity_confirmed_at``): the first confirmation counts, and QA checks that no
debt was shown before it (SPEC §6, §8). It is reached only through :attr:`CallSession.identity`
(:mod:`dialer.floor.identity`): a matching answer, or an override with a reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from dialer.agents.desktop import ScreenPop
from dialer.floor.identity import (
    IdentityAttempt,
    IdentityCheck,
    IdentityKey,
    IdentityMethod,
)
from scripting.run import RunError, ScriptRun
from scripting.script import Script, load_default_script

if TYPE_CHECKING:  # priced through the database by dialer.negotiation.offers; only the type here
    from dialer.negotiation.offers import NegotiationQuote


class ScriptBook:
    """Which script each campaign's calls run: its latest published version, else the default."""

    def __init__(self, default: Script | None = None) -> None:
        self.default = default or load_default_script()
        self._by_campaign: dict[int, Script] = {}

    def replace(self, by_campaign: dict[int, Script]) -> None:
        """Swap the whole map in at once (a pop never sees it half-built)."""
        self._by_campaign = dict(by_campaign)

    def for_campaign(self, campaign_id: int) -> Script:
        return self._by_campaign.get(campaign_id, self.default)


@dataclass
class CallSession:
    """One agent's current call as the negotiation sees it."""

    call_id: str
    user_id: int
    agent_name: str
    pop: ScreenPop
    run: ScriptRun
    quote: NegotiationQuote | None = None
    selected: Any = None  # the scripting.offers.Offer the agent chose in the calculator
    approvals: dict[int, Decimal] = field(default_factory=dict)  # approved request id → discount %
    identity: IdentityCheck = field(default_factory=lambda: IdentityCheck(IdentityKey()))

    @property
    def customer_id(self) -> int:
        return self.pop.customer.id

    @property
    def campaign_id(self) -> int:
        return self.pop.campaign_id

    @property
    def identity_confirmed_at(self) -> datetime | None:
        return self.run.identity_confirmed_at

    def approval_for(self, discount_pct: Decimal) -> int | None:
        """An approved request covering ``discount_pct`` (the latest), if any."""
        found = [rid for rid, pct in self.approvals.items() if pct >= discount_pct]
        return max(found) if found else None

    def verify_identity(self, method: IdentityMethod, answer: str, at: datetime) -> IdentityAttempt:
        """Check the person's answer; a match confirms the identity (and moves the script through its gate)."""
        attempt = self.identity.check(method, answer, at)
        if attempt.matched:
            self.confirm_identity(at)
        return attempt

    def override_identity(self, reason: str, at: datetime) -> None:
        """Release the call without a match, with the agent's reason (supervisors see it)."""
        self.identity.override(reason, at)
        self.confirm_identity(at)

    def confirm_identity(self, at: datetime) -> datetime:
        """Mark the identity confirmed (the first time counts) and move the run through its gate if it is in reach."""
        run = self.run
        if run.identity_confirmed_at is not None:
            return run.identity_confirmed_at
        if not run.finished:
            step = run.current_step
            confirming = next((c for c in step.choices if c.confirms_identity), None)
            if confirming is None:
                # e.g. still on the greeting: take the choice leading to the gate step first
                for c in step.choices:
                    if c.next is not None and any(x.confirms_identity for x in run.script.step(c.next).choices):
                        run.choose(c.id, at)
                        confirming = next(x for x in run.current_step.choices if x.confirms_identity)
                        break
            if confirming is not None:
                try:
                    run.choose(confirming.id, at)
                except RunError:
                    pass
        if run.identity_confirmed_at is None:
            # no gate within reach in this script: the record still shows when it was confirmed
            run.identity_confirmed_at = at
        return run.identity_confirmed_at


def open_session(user_id: int, agent_name: str, pop: ScreenPop, script: Script, at: datetime) -> CallSession:
    key = pop.customer.identity or IdentityKey()
    return CallSession(pop.call_id, user_id, agent_name, pop, ScriptRun(script, at), identity=IdentityCheck(key))
