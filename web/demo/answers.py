"""What the demo's simulated customers answer to the identity check: their date of birth on record.

The demo's bots are agents, and an agent asks the person on the line; in the demo nobody is
on the line, so the demo (which owns the database) answers for them. The page and the bots'
websocket never receive the birth date: only this in-process helper reads it.
"""

from __future__ import annotations

import asyncio
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import CallAttempt, Customer

# the attempt row may still be in the dialer's write queue when the agent gets the call
LOOKUP_TRIES = 10
LOOKUP_PAUSE_S = 0.2


class DemoAnswers:
    """``await answers(call_id)``: the birth date of the customer on that call (None: none on record)."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    async def __call__(self, call_id: str) -> date | None:
        query = (
            select(Customer.birth_date)
            .join(CallAttempt, CallAttempt.customer_id == Customer.id)
            .where(CallAttempt.id == call_id)
        )
        for attempt in range(LOOKUP_TRIES):
            async with self.sessions() as db:
                row = (await db.execute(query)).first()
            if row is not None:
                return row[0]
            if attempt + 1 < LOOKUP_TRIES:
                await asyncio.sleep(LOOKUP_PAUSE_S)
        raise LookupError(f"call {call_id} is not in the database")


__all__ = ["DemoAnswers"]
