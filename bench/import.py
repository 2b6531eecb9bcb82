"""P5: portfolio import with validation into SQLite, rows/s and peak memory (SPEC §10).

Writes a ``--rows`` (default 200,000) row portfolio the way Brazilian spreadsheets save it
(Latin-1, ``;``, decimal comma, ``dd/mm/aaaa``, formatted CPFs and phones, 1 to 3 rows per
customer, ~2% bad rows), then times, on a fresh migrated SQLite file:

- the pure parser alone (``read_portfolio``: decoding, CSV, validation), and
- the whole import (``import_portfolio``: both passes, batches of whole customers, leads).

Peak RSS is read from the OS before and after (``ru_maxrss``): it should not grow with the
file. Results: ``bench/results/import.json``. Usage: ``python bench/import.py [--rows N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import random
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dialer.portfolio.cpf import format_cpf, make_cpf  # noqa: E402
from dialer.portfolio.importer import import_portfolio  # noqa: E402
from dialer.portfolio.rows import read_portfolio  # noqa: E402
from storage import migrate  # noqa: E402
from storage.engine import create_engine, session_factory  # noqa: E402
from storage.models import Campaign, CampaignMode  # noqa: E402

DEFAULT_OUTPUT = ROOT / "bench" / "results" / "import.json"
HEADER = "ID_Cliente;Nome;CPF;Data_Nascimento;Telefones;Email;UF;Contrato;Credor;Produto;Valor_Original;Saldo;Vencimento;Tags\r\n"
NAMES = ["José da Conceição", "Maria Aparecida", "João Antônio", "Ana Lúcia", "Luíza Brandão", "Sérgio Nóbrega"]
DDDS = [("11", "SP"), ("21", "RJ"), ("31", "MG"), ("41", "PR"), ("51", "RS"), ("71", "BA"), ("81", "PE"), ("68", "AC")]


def brl(cents: int) -> str:
    reais, rest = divmod(cents, 100)
    return f"{reais:,}".replace(",", ".") + f",{rest:02d}"


def write_file(path: Path, rows: int, seed: int = 11) -> int:
    """The portfolio file; returns its size in bytes."""
    rng = random.Random(seed)
    written, customer = 0, 0
    with path.open("w", encoding="latin-1", newline="") as out:
        out.write(HEADER)
        while written < rows:
            customer += 1
            ddd, uf = rng.choice(DDDS)
            cpf = format_cpf(make_cpf(f"{200000000 + customer:09d}"))
            name = rng.choice(NAMES)
            phones = f"({ddd}) 9{rng.randint(1000, 9999)}-{rng.randint(1000, 9999)}"
            if rng.random() < 0.4:
                phones += f"|{ddd} 3{rng.randint(100, 999)}-{rng.randint(1000, 9999)}"
            for k in range(min(rng.choice((1, 1, 2, 3)), rows - written)):
                balance = rng.randint(5000, 2_000_000)
                due = f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{rng.choice((2023, 2024, 2025))}"
                bad = rng.random() < 0.02
                out.write(
                    f"C{customer};{name};{'111.111.111-11' if bad else cpf};15/04/1980;{phones};;{uf};"
                    f"CT-{customer}-{k};Banco Exemplo;Cartão de crédito;{brl(balance)};{brl(balance)};{due};"
                    f"{'vip' if customer % 20 == 0 else ''}\r\n"
                )
                written += 1
    return path.stat().st_size


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def run_import(db_url: str, path: Path) -> dict[str, Any]:
    engine = create_engine(db_url)
    sessions = session_factory(engine)
    try:
        async with sessions() as db:
            campaign = Campaign(name="Bench", mode=CampaignMode.PROGRESSIVE, dial_template="Local/{number}@x",
                                caller_id="1", pbx_name="sim")
            db.add(campaign)
            await db.commit()
        started = time.perf_counter()
        with path.open("rb") as stream:
            result = await import_portfolio(sessions, stream, campaign_id=campaign.id)
        elapsed = time.perf_counter() - started
        started = time.perf_counter()
        with path.open("rb") as stream:
            again = await import_portfolio(sessions, stream, campaign_id=campaign.id)
        reimport = time.perf_counter() - started
        return {"seconds": elapsed, "figures": result.to_json(), "reimport_seconds": reimport,
                "reimport_changed": again.imported_customers + again.updated_customers}
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "carteira.csv"
        size = write_file(path, args.rows)
        rss_start = rss_mb()

        started = time.perf_counter()
        with path.open("rb") as stream:
            parsed = sum(1 for _ in read_portfolio(stream))
        parse_s = time.perf_counter() - started
        print(f"parser alone: {parsed:,} rows in {parse_s:.2f} s = {parsed / parse_s:,.0f} rows/s")

        db_url = f"sqlite+aiosqlite:///{Path(tmp) / 'import.db'}"
        migrate.upgrade(db_url)
        outcome = asyncio.run(run_import(db_url, path))
        rate = args.rows / outcome["seconds"]
        rss_end = rss_mb()
        print(f"import: {args.rows:,} rows in {outcome['seconds']:.2f} s = {rate:,.0f} rows/s "
              f"(target 20,000); re-import {outcome['reimport_seconds']:.2f} s, {outcome['reimport_changed']} changed")
        print(f"peak RSS {rss_end:.0f} MB (before the parse and import: {rss_start:.0f} MB)")
        print(json.dumps(outcome["figures"]))
    results = {
        "rows": args.rows,
        "file_mb": round(size / 1e6, 1),
        "parser_rows_per_s": round(parsed / parse_s),
        "import_rows_per_s": round(rate),
        "import_seconds": round(outcome["seconds"], 2),
        "reimport_seconds": round(outcome["reimport_seconds"], 2),
        "reimport_changed_customers": outcome["reimport_changed"],
        "peak_rss_mb": round(rss_end, 1),
        "rss_before_mb": round(rss_start, 1),
        "figures": outcome["figures"],
        "target_rows_per_s": 20000,
        "python": platform.python_version(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"written {args.output}")


if __name__ == "__main__":
    main()
