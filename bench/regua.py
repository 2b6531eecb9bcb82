"""The régua at scale: preview, a daily run (decisions + outbox in one transaction each) and
the sender draining to a real SMTP server, on a fresh migrated SQLite file.

No SPEC §10 target: the figures say how long a daily run takes for a portfolio. Builds
``--customers`` demo customers (``web.demo.portfolio``: every aging bucket, half with an
e-mail address) as the importer stores them, then times:

- ``preview_day`` (read + plan, nothing stored),
- ``run_day`` (the same, plus every decision and its message; a second run takes nothing),
- ``OutboxSender.drain_once`` delivering the e-mails to aiosmtpd on loopback.

Results: ``bench/results/regua.json``. Usage: ``python bench/regua.py [--customers N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime
from datetime import time as day_time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dialer.clocks import BRASILIA
from dialer.outbox.sender import OutboxSender
from dialer.outbox.transports import SmtpSettings, SmtpTransport
from dialer.regua.services import ReguaSettings, preview_day, run_day
from storage import migrate
from storage.engine import create_engine, session_factory
from storage.models import Campaign, CampaignMode
from storage.repositories.portfolio import CustomerRecord, DebtRecord, store_customers
from web.demo.portfolio import generate_customers
from web.demo.smtp_sink import SmtpSink

DEFAULT_OUTPUT = ROOT / "bench" / "results" / "regua.json"


async def build(url: str, customers: int, now: datetime) -> None:
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as db:
            campaign = Campaign(name="bench", mode=CampaignMode.PROGRESSIVE, dial_template="Local/{number}@x",
                                caller_id="1", pbx_name="sim")
            db.add(campaign)
            await db.flush()
            people = generate_customers(customers, today=now.astimezone(BRASILIA).date())
            records = [
                CustomerRecord(external_id=c.external_id, name=c.name, cpf=c.cpf, birth_date=c.birth_date, email=c.email,
                               uf=c.uf, phones={p.e164: p.ddd for p in c.phones},
                               debts={d.contract: DebtRecord(d.contract, d.creditor, d.product, d.original_amount,
                                                             d.balance, d.due_date) for d in c.debts},
                               tags=set(c.tags))
                for c in people
            ]
            for start in range(0, len(records), 1000):
                await store_customers(db, campaign.id, records[start:start + 1000], now=now)
            await db.commit()
    finally:
        await engine.dispose()


async def measure(customers: int) -> dict[str, Any]:
    # a Tuesday at 10:00 in Brasília: every channel's window is open
    now = datetime.combine(datetime(2026, 3, 10).date(), day_time(13), tzinfo=UTC)
    day = now.astimezone(BRASILIA).date()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'regua.db'}"
        await asyncio.to_thread(migrate.upgrade, url)
        started = time.perf_counter()
        await build(url, customers, now)
        built_s = time.perf_counter() - started
        engine = create_engine(url)
        sessions = session_factory(engine)
        try:
            settings = ReguaSettings()
            t0 = time.perf_counter()
            preview = await preview_day(sessions, day, settings, now=now)
            preview_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            report = await run_day(sessions, day, settings, now=now)
            run_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            again = await run_day(sessions, day, settings, now=now)
            again_s = time.perf_counter() - t0
            async with SmtpSink(port=0) as sink:
                sender = OutboxSender(sessions, {"email": SmtpTransport(SmtpSettings(port=sink.port))},
                                      clock=lambda: now, batch=200)
                t0 = time.perf_counter()
                drained = await sender.drain_once()
                send_s = time.perf_counter() - t0
                received = len(sink.mails)
        finally:
            await engine.dispose()
    return {
        "customers": customers,
        "build_s": round(built_s, 2),
        "preview": {"actions": len(preview.items), "seconds": round(preview_s, 3),
                    "customers_per_s": round(customers / preview_s)},
        "run": {"decided": report.decided, "messages": report.messages, "seconds": round(run_s, 3),
                "decisions_per_s": round(report.decided / run_s) if report.decided else None},
        "second_run": {"decided": again.decided, "seconds": round(again_s, 3)},
        "send": {"sent": drained.sent, "received": received, "seconds": round(send_s, 3),
                 "mails_per_s": round(drained.sent / send_s) if drained.sent else None},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=20_000, help="portfolio size (default 20,000)")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args()
    figures = asyncio.run(measure(args.customers))
    figures["python"] = platform.python_version()
    figures["date"] = datetime.now(UTC).isoformat(timespec="seconds")
    print(json.dumps(figures, indent=2, ensure_ascii=False))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    if figures["second_run"]["decided"] or figures["send"]["received"] != figures["send"]["sent"]:
        raise SystemExit("a second run decided something, or a mail was not received once")


if __name__ == "__main__":
    main()
