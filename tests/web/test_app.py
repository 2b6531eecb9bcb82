from __future__ import annotations

from pathlib import Path

from web.agent.http import AGENT_DESK
from web.app import create_app
from web.config import CompanyConfig, Config, DatabaseConfig, PixConfig


def test_company_and_pix_reach_the_agent_desk(tmp_path: Path) -> None:
    config = Config(
        database=DatabaseConfig(url=f"sqlite+aiosqlite:///{tmp_path / 'c.db'}"),
        company=CompanyConfig(name="Recupera Bem", phone="0800 123 4567"),
        pix=PixConfig(key="financeiro@recuperabem.com.br", name="RECUPERA BEM", city="RECIFE"),
    )
    desk = create_app(config)[AGENT_DESK]
    assert desk.company.nome == "Recupera Bem"
    assert desk.pix is not None and desk.pix.key == "financeiro@recuperabem.com.br"


def test_no_pix_key_means_no_pix_on_the_page(tmp_path: Path) -> None:
    config = Config(database=DatabaseConfig(url=f"sqlite+aiosqlite:///{tmp_path / 'c.db'}"))
    assert create_app(config)[AGENT_DESK].pix is None
