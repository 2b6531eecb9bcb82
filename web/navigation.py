"""The one navigation bar of the staff pages: each link shown only to the roles its route lets in.

The bar reads the access rule every route already declares (``@requires``), so a page's
roles are written once, on its handler, and the bar can never offer a page that answers 403.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from storage.models import Role
from web.auth.access import Access, access_of

# (path, label): in the order shown. Only pages of their own (not the agent desk, which has its own layout).
PAGES: tuple[tuple[str, str], ...] = (
    ("/supervisor", "Painel ao vivo"),
    ("/supervisor/campanhas", "Campanhas"),
    ("/supervisor/roteiros", "Roteiros"),
    ("/supervisor/simulacao", "Simulação de discagem"),
    ("/supervisor/regua", "Régua de cobrança"),
    ("/monitoria", "Monitoria"),
    ("/monitoria/indicadores", "Indicadores"),
    ("/monitoria/fila", "Fila de revisão"),
    ("/monitoria/ficha", "Ficha de avaliação"),
    ("/admin", "Usuários"),
)


@dataclass(frozen=True, slots=True)
class NavLink:
    path: str
    label: str


class Navigation:
    """The links each role may open, worked out from the app's routes on first use (the router is frozen by then)."""

    def __init__(self, app: web.Application) -> None:
        self._app = app
        self._rules: dict[str, Access] | None = None

    def _access(self) -> dict[str, Access]:
        if self._rules is None:
            rules: dict[str, Access] = {}
            for route in self._app.router.routes():
                rule = access_of(route)
                if route.method == "GET" and route.resource is not None and rule is not None:
                    rules[route.resource.canonical] = rule
            self._rules = rules
        return self._rules

    def links_for(self, role: Role | str) -> list[NavLink]:
        """The pages ``role`` may open; a bar with a single link is no bar (empty list)."""
        rules = self._access()
        role = Role(role)
        links = [NavLink(p, label) for p, label in PAGES if p in rules and not rules[p].public and rules[p].allows(role)]
        return links if len(links) > 1 else []


__all__ = ["PAGES", "NavLink", "Navigation"]
