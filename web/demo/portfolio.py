"""A synthetic Brazilian collections portfolio for the demo: pure, seeded, repeatable.

Customers have accented Brazilian names, valid CPFs (check digits computed), an address UF
and one or two phones whose DDD matches a state from every region; the phones' last digits
are spread evenly (the simulator's last-digit convention then gives a realistic mix of
answers, busy lines and no-answers). Debts fall in every aging bucket of SPEC §4, none
older than five years (prescribed debts are not collected by phone).
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from dialer.portfolio.cpf import make_cpf

FIRST_NAMES = (
    "José", "João", "Antônio", "Francisco", "Luís", "Sebastião", "Fábio", "Márcio", "Sérgio", "Vinícius",
    "André", "Cláudio", "Rogério", "Tomás", "Raí", "Caio", "Otávio", "Flávio", "Júlio", "Estêvão",
    "Maria", "Ana", "Conceição", "Márcia", "Luíza", "Sônia", "Vitória", "Inês", "Érica", "Júlia",
    "Lúcia", "Cecília", "Letícia", "Patrícia", "Glória", "Mônica", "Tânia", "Bárbara", "Natália", "Flávia",
)
SURNAMES = (
    "Souza", "Silva", "Conceição", "Gonçalves", "Araújo", "Simões", "Magalhães", "Brandão", "Assunção",
    "Guimarães", "Falcão", "Lemos", "Peixoto", "Damião", "Romão", "Estevão", "Conrado", "Nóbrega", "Bragança",
    "Sampaio", "Loureiro", "Galvão", "Monção", "Patrício", "Tavares", "Mendonça", "Leão", "Frazão", "Barbosa",
    "Aragão", "Ribeiro", "Rocha", "Lopes", "Carvalho", "Figueirêdo", "Conceição", "Pimentel", "Vasconcelos",
)
PARTICLES = ("da", "de", "dos", "das", "do")

# (DDD, UF): at least one from every region, including the other time zones (AC, AM, MT, RO, RR)
DDDS = (
    ("11", "SP"), ("19", "SP"), ("21", "RJ"), ("24", "RJ"), ("27", "ES"), ("31", "MG"), ("34", "MG"),
    ("41", "PR"), ("47", "SC"), ("48", "SC"), ("51", "RS"), ("54", "RS"), ("61", "DF"), ("62", "GO"),
    ("63", "TO"), ("65", "MT"), ("67", "MS"), ("68", "AC"), ("69", "RO"), ("71", "BA"), ("75", "BA"),
    ("79", "SE"), ("81", "PE"), ("82", "AL"), ("83", "PB"), ("84", "RN"), ("85", "CE"), ("86", "PI"),
    ("91", "PA"), ("92", "AM"), ("95", "RR"), ("96", "AP"), ("98", "MA"),
)

CREDITORS = (
    ("Banco Aurora", ("Cartão de crédito", "Empréstimo pessoal", "Cheque especial")),
    ("Financeira Horizonte", ("Crédito consignado", "Financiamento de veículo")),
    ("Magazine Bela Vista", ("Crediário",)),
    ("Conecta Telecom", ("Conta de celular", "Internet fibra")),
    ("Cartão Brasil Mais", ("Cartão de crédito",)),
)

# SPEC §4 aging buckets (days past the oldest due date); the last stops short of prescription
AGING_BUCKETS: tuple[tuple[int, int], ...] = ((1, 30), (31, 60), (61, 90), (91, 180), (181, 360), (361, 1700))
TAGS = ("cartao", "varejo", "telecom", "consignado", "veiculo", "reincidente", "primeiro_atraso")


@dataclass(frozen=True, slots=True)
class DemoPhone:
    e164: str
    ddd: str


@dataclass(frozen=True, slots=True)
class DemoDebt:
    contract: str
    creditor: str
    product: str
    original_amount: Decimal
    balance: Decimal
    due_date: date


@dataclass(frozen=True, slots=True)
class DemoCustomer:
    external_id: str
    name: str
    cpf: str
    uf: str
    birth_date: date
    phones: tuple[DemoPhone, ...]
    debts: tuple[DemoDebt, ...]
    tags: tuple[str, ...]
    bucket: int  # index into AGING_BUCKETS of the oldest debt
    email: str | None = None  # every other customer (the régua's e-mails; example.com never delivers)


def demo_email(name: str, number: int) -> str | None:
    """An address for every other demo customer, from the name (no random draw: the rest of the
    portfolio is the same with or without it)."""
    if number % 2:
        return None
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower().split()
    return f"{plain[0]}.{plain[-1]}.{number}@example.com" if plain else None


def _name(rng: random.Random) -> str:
    first = rng.choice(FIRST_NAMES)
    middle = rng.choice(SURNAMES)
    last = rng.choice([s for s in SURNAMES if s != middle])
    if rng.random() < 0.45:
        return f"{first} {middle} {rng.choice(PARTICLES)} {last}"
    return f"{first} {middle} {last}"


def _mobile(rng: random.Random, ddd: str, last_digit: int) -> str:
    body = "9" + "".join(str(rng.randrange(10)) for _ in range(7)) + str(last_digit)
    return f"+55{ddd}{body}"


def _landline(rng: random.Random, ddd: str, last_digit: int) -> str:
    body = str(rng.randrange(2, 6)) + "".join(str(rng.randrange(10)) for _ in range(6)) + str(last_digit)
    return f"+55{ddd}{body}"


def _amount(rng: random.Random, low: int, high: int) -> Decimal:
    return Decimal(rng.randrange(low * 100, high * 100)) / 100


def generate_customers(count: int, *, today: date, seed: int = 2026) -> list[DemoCustomer]:
    """``count`` customers (seeded: the same arguments give the same portfolio)."""
    if count < 1:
        raise ValueError(f"count: must be at least 1, got {count}")
    rng = random.Random(seed)
    bases = rng.sample(range(10_000_000, 999_999_999), count)
    customers = []
    for i in range(count):
        base9 = f"{bases[i]:09d}"
        try:
            cpf = make_cpf(base9)
        except ValueError:  # an all-same-digit base (111111111): shift it
            cpf = make_cpf(f"{(bases[i] + 1) % 1_000_000_000:09d}")
        ddd, uf = DDDS[i % len(DDDS)]
        last_digit = (i * 7) % 10  # every digit equally often, not in lockstep with the DDD
        phones = [DemoPhone(_mobile(rng, ddd, last_digit), ddd)]
        if rng.random() < 0.35:
            other_ddd, _ = rng.choice(DDDS) if rng.random() < 0.3 else (ddd, uf)
            phones.append(DemoPhone(_landline(rng, other_ddd, rng.randrange(10)), other_ddd))
        bucket = i % len(AGING_BUCKETS)
        low, high = AGING_BUCKETS[bucket]
        oldest = rng.randint(low, high)
        debts = []
        for j in range(rng.choice((1, 1, 1, 2, 2, 3))):
            days = oldest if j == 0 else rng.randint(1, oldest)
            creditor, products = rng.choice(CREDITORS)
            original = _amount(rng, 80, 8000)
            # balance: the original plus charges that grow with the delay (illustrative, not the encargos math)
            growth = Decimal(1) + Decimal(min(days, 720)) / Decimal(1800) + Decimal(rng.randrange(0, 8)) / 100
            debts.append(
                DemoDebt(
                    contract=f"{creditor[:3].upper()}-{rng.randrange(10**7, 10**8)}",
                    creditor=creditor,
                    product=rng.choice(products),
                    original_amount=original,
                    balance=(original * growth).quantize(Decimal("0.01")),
                    due_date=today - timedelta(days=days),
                )
            )
        birth = date(1950, 1, 1) + timedelta(days=rng.randrange(0, 365 * 52))
        tags = tuple(sorted(set(rng.sample(TAGS, rng.randrange(0, 3)))))
        name = _name(rng)  # drawn after the tags, as it always was: the portfolio stays the same
        customers.append(
            DemoCustomer(
                external_id=f"DEMO-{i + 1:06d}",
                name=name,
                cpf=cpf,
                uf=uf,
                birth_date=birth,
                phones=tuple(phones),
                debts=tuple(debts),
                tags=tags,
                bucket=bucket,
                email=demo_email(name, i + 1),
            )
        )
    return customers


def aging_bucket_of(days_past_due: int) -> int:
    """The index into :data:`AGING_BUCKETS` for ``days_past_due`` (the last bucket is open-ended)."""
    for i, (low, high) in enumerate(AGING_BUCKETS[:-1]):
        if low <= days_past_due <= high:
            return i
    if days_past_due < 1:
        raise ValueError(f"days_past_due: {days_past_due} is not past due")
    return len(AGING_BUCKETS) - 1
