"""The script editor: ``/supervisor/roteiros`` and its REST API (SPEC §7), for supervisors and admins.

- ``POST /api/v1/scripts/validate`` ``{yaml}`` → ``{ok, errors: [{step, line, message}]}``;
- ``POST /api/v1/scripts/preview`` ``{yaml, step, identity_confirmed}`` → the step rendered
  with the fictitious sample customer (``scripting.render.sample_context``): ``text`` (plain,
  what pages show as text) and ``html`` (the same, escaped);

Validation, preview and publishing check templates in a worker thread with a timeout
(``web.scripts.worker``), never on the event loop; a script over the limits of
``scripting.sandbox`` is refused with the step and a pt-BR message.
- ``POST /api/v1/scripts/{key}/versions`` ``{yaml}`` → publishes the next immutable version
  (validated first: 422 with the errors otherwise; audited);
- ``GET /api/v1/scripts`` → every script with its versions; ``GET /api/v1/scripts/{key}/versions/{n}``
  → one version's text;
- ``PUT /api/v1/campaigns/{id}/script`` ``{key}`` → the campaign's calls run the latest
  published version of ``key`` (``null``: the default script); audited.

Errors are raised as ``web.errors.FieldError`` and answered in the API's one shape; a 422
about the script's text also carries ``errors`` (each problem with its step and line).
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import resources
from typing import Any

from aiohttp import web
from markupsafe import Markup
from pydantic import BaseModel, ConfigDict, Field, StrictBool

from dialer.scripts_catalog import refresh_campaign_scripts
from scripting.render import (
    TemplateProblem,
    TemplateRefused,
    as_plain_text,
    render_text,
    sample_context,
)
from scripting.script import (
    Script,
    ScriptError,
    ScriptIssue,
    Step,
    check_script,
    load_script,
)
from storage.errors import AlreadyExists, NotFound
from storage.models import Campaign, Role
from storage.repositories import audit
from storage.repositories.scripts import (
    PublishedScript,
    get_version,
    list_versions,
    publish_version,
    set_campaign_script,
)
from web.agent.http import AGENT_DESK
from web.auth.access import requires
from web.auth.responses import render_page
from web.errors import NO_STORE, FieldError, path_id, read_body
from web.keys import CLOCK, CURRENT_LOGIN, DB
from web.scripts.worker import SCRIPT_WORKER, ScriptJobTimeout, setup_script_worker

MAX_YAML_CHARS = 200_000
MAX_KEY_CHARS = 80  # script keys and step ids
_NO_STORE = NO_STORE


class YamlIn(BaseModel):
    """``{yaml}``: a script's text (other keys are ignored, as the editor may send more)."""

    model_config = ConfigDict(extra="ignore")

    yaml: str | None = Field(default=None, max_length=MAX_YAML_CHARS)


class PreviewIn(YamlIn):
    step: str | None = Field(default=None, max_length=MAX_KEY_CHARS)
    identity_confirmed: StrictBool = True


class CampaignScriptIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    key: str | None = Field(default=None, max_length=MAX_KEY_CHARS)


def _invalid(field: str, message: str, errors: list[dict[str, Any]] | None = None) -> FieldError:
    """422 naming ``field``; ``errors`` (the script's problems) go next to ``error`` in the body."""
    return FieldError.invalid(field, message, extra=None if errors is None else {"errors": errors})


def _yaml_of(body: YamlIn) -> str:
    text = body.yaml
    if not isinstance(text, str) or not text.strip():
        raise _invalid("yaml", "informe o texto do roteiro (YAML)")
    if len(text) > MAX_YAML_CHARS:
        raise _invalid("yaml", f"o roteiro passa de {MAX_YAML_CHARS} caracteres")
    return text


def _issues(issues: tuple[ScriptIssue, ...] | list[ScriptIssue]) -> list[dict[str, Any]]:
    return [{"step": i.step, "line": i.line, "message": i.message} for i in issues]


def _version_view(v: PublishedScript) -> dict[str, Any]:
    return {"version": v.version, "published_at": v.published_at.isoformat(), "published_by": v.published_by}


def default_script_text() -> str:
    """The shipped default script's YAML, the editor's starting text before anything is published."""
    return resources.files("scripting").joinpath("scripts/padrao.yaml").read_text(encoding="utf-8")


def _login_id(request: web.Request) -> int:
    login = request[CURRENT_LOGIN]
    if login is None:  # the middleware lets no anonymous request reach here
        raise web.HTTPUnauthorized()
    return login.user_id


@requires(Role.SUPERVISOR, Role.ADMIN)
async def validate_script(request: web.Request) -> web.Response:
    """``POST /api/v1/scripts/validate``: every problem with its step and line (``ok`` when none)."""
    text = _yaml_of(await read_body(request, YamlIn))
    try:
        script = await request.app[SCRIPT_WORKER].run(lambda on_step: check_script(text, on_step=on_step))
    except ScriptError as exc:
        return web.json_response({"ok": False, "errors": _issues(exc.issues)}, headers=_NO_STORE)
    except ScriptJobTimeout as exc:
        error = {"step": exc.step, "line": exc.line, "message": str(exc)}
        return web.json_response({"ok": False, "errors": [error]}, headers=_NO_STORE)
    return web.json_response(
        {"ok": True, "errors": [], "id": script.id, "steps": script.step_ids}, headers=_NO_STORE
    )


@requires(Role.SUPERVISOR, Role.ADMIN)
async def preview_script(request: web.Request) -> web.Response:
    """``POST /api/v1/scripts/preview``: one step rendered with the sample customer."""
    body = await read_body(request, PreviewIn)
    text = _yaml_of(body)
    step_id = body.step
    if not isinstance(step_id, str) or not step_id:
        raise _invalid("step", "informe o passo a pré-visualizar")
    identity = body.identity_confirmed

    def render(on_step: Callable[[str, int], None]) -> tuple[Step, Markup]:
        script = load_script(text)
        step = script.step(step_id)  # KeyError: no such step
        on_step(step.id, step.line)
        try:
            return step, render_text(step.text, sample_context(), identity_confirmed=identity)
        except TemplateRefused as exc:  # the lines of the YAML the editor shows, not of the step's text
            raise TemplateRefused([TemplateProblem(step.text_line + p.line - 1, p.message) for p in exc.problems]) from None

    try:
        step, rendered = await request.app[SCRIPT_WORKER].run(render)
    except ScriptError as exc:
        raise _invalid("yaml", "o roteiro tem erros; valide antes de pré-visualizar", _issues(exc.issues)) from None
    except KeyError:
        raise _invalid("step", f"o passo '{step_id}' não existe") from None
    except TemplateRefused as exc:
        where = "; ".join(f"linha {p.line}: {p.message}" for p in exc.problems)
        raise _invalid("step", f"passo {step_id}, {where}") from None
    except ScriptJobTimeout as exc:
        raise FieldError.invalid("step", str(exc)) from None
    choices = [
        {"id": c.id, "label": c.label, "next": c.next, "dispose": c.dispose} for c in step.choices
    ]
    # "text" is what pages show (as text, with **negrito** and line breaks); "html" is the same
    # step escaped for HTML, kept for API clients that read it
    return web.json_response(
        {"step": step.id, "title": step.title, "text": as_plain_text(rendered), "html": str(rendered), "choices": choices},
        headers=_NO_STORE,
    )


@requires(Role.SUPERVISOR, Role.ADMIN)
async def publish_script(request: web.Request) -> web.Response:
    """``POST /api/v1/scripts/{key}/versions``: validate, then store the next immutable version (audited)."""
    user_id = _login_id(request)
    key = request.match_info["key"]
    text = _yaml_of(await read_body(request, YamlIn))
    try:
        script: Script = await request.app[SCRIPT_WORKER].run(lambda on_step: check_script(text, on_step=on_step))
    except ScriptError as exc:
        raise _invalid("yaml", "o roteiro tem erros e não foi publicado", _issues(exc.issues)) from None
    except ScriptJobTimeout as exc:
        raise FieldError.invalid("yaml", f"o roteiro não foi publicado: {exc}") from None
    if script.id != key:
        raise _invalid("yaml", f"o id do roteiro ('{script.id}') deve ser igual à chave publicada ('{key}')")
    try:
        async with request.app[DB].begin() as db:
            at = request.app[CLOCK]()
            published = await publish_version(db, key, text, published_by=user_id, at=at)
            await audit.record(
                db, user_id=user_id, action="script.publish", entity="script", entity_id=key,
                after={"version": published.version, "steps": len(script.steps)}, at=at,
            )
    except AlreadyExists:
        raise FieldError.conflict(
            "Outra publicação deste roteiro acabou de acontecer; publique de novo.", field="key"
        ) from None
    await refresh_campaign_scripts(request.app[DB], request.app[AGENT_DESK].scripts)
    return web.json_response({"key": key, **_version_view(published)}, status=201, headers=_NO_STORE)


@requires(Role.SUPERVISOR, Role.ADMIN)
async def list_scripts(request: web.Request) -> web.Response:
    """``GET /api/v1/scripts``: every published script, newest version first."""
    async with request.app[DB]() as db:
        versions = await list_versions(db)
    scripts = [{"key": key, "versions": [_version_view(v) for v in vs]} for key, vs in versions.items()]
    return web.json_response({"scripts": scripts}, headers=_NO_STORE)


@requires(Role.SUPERVISOR, Role.ADMIN)
async def get_script_version(request: web.Request) -> web.Response:
    """``GET /api/v1/scripts/{key}/versions/{version}``: the text of one published version."""
    key = request.match_info["key"]
    number = path_id(request, "version", "versão")
    async with request.app[DB]() as db:
        found = await get_version(db, key, number)
    if found is None:
        raise FieldError.not_found("version", f"O roteiro '{key}' não tem a versão {number}.")
    return web.json_response({"key": key, "yaml": found.yaml_text, **_version_view(found)}, headers=_NO_STORE)


@requires(Role.SUPERVISOR, Role.ADMIN)
async def put_campaign_script(request: web.Request) -> web.Response:
    """``PUT /api/v1/campaigns/{campaign_id}/script`` ``{key}``: the script the campaign's calls run (audited)."""
    user_id = _login_id(request)
    campaign_id = path_id(request, "campaign_id", "campanha")
    key = (await read_body(request, CampaignScriptIn)).key
    if key is not None and (not isinstance(key, str) or not key):
        raise _invalid("key", "informe a chave de um roteiro publicado, ou null para o roteiro padrão")
    try:
        async with request.app[DB].begin() as db:
            campaign = await db.get(Campaign, campaign_id)
            before = campaign.script_key if campaign is not None else None
            await set_campaign_script(db, campaign_id, key)
            await audit.record(
                db, user_id=user_id, action="campaign.script", entity="campaign", entity_id=campaign_id,
                before={"script_key": before}, after={"script_key": key}, at=request.app[CLOCK](),
            )
    except NotFound as exc:
        if "campaign" in str(exc):
            raise FieldError.not_found("campaign_id", f"Campanha {campaign_id} não existe.") from None
        raise _invalid("key", f"o roteiro '{key}' não tem versão publicada") from None
    await refresh_campaign_scripts(request.app[DB], request.app[AGENT_DESK].scripts)
    return web.json_response({"campaign_id": campaign_id, "key": key}, headers=_NO_STORE)


@requires(Role.SUPERVISOR, Role.ADMIN)
async def scripts_page(request: web.Request) -> web.Response:
    """``GET /supervisor/roteiros``: the editor, preloaded with the newest published version or the default."""
    async with request.app[DB]() as db:
        versions = await list_versions(db)
    latest = max((vs[0] for vs in versions.values()), key=lambda v: v.published_at, default=None)
    text = latest.yaml_text if latest is not None else default_script_text()
    return render_page(
        request,
        "supervisor_roteiros.html",
        {"yaml_text": text, "versions": versions, "loaded": latest},
    )


async def _load_on_startup(app: web.Application) -> None:
    await refresh_campaign_scripts(app[DB], app[AGENT_DESK].scripts)


def setup_scripts(app: web.Application) -> None:
    """Mount the editor page and the scripts API; needs ``setup_agent`` first (it feeds the desk's scripts)."""
    setup_script_worker(app)
    app.router.add_get("/supervisor/roteiros", scripts_page, name="supervisor_roteiros")
    app.router.add_post("/api/v1/scripts/validate", validate_script, name="scripts_validate")
    app.router.add_post("/api/v1/scripts/preview", preview_script, name="scripts_preview")
    app.router.add_get("/api/v1/scripts", list_scripts, name="scripts_list")
    app.router.add_post("/api/v1/scripts/{key}/versions", publish_script, name="scripts_publish")
    app.router.add_get("/api/v1/scripts/{key}/versions/{version}", get_script_version, name="scripts_version")
    app.router.add_put("/api/v1/campaigns/{campaign_id}/script", put_campaign_script, name="campaign_script_put")
    app.on_startup.append(_load_on_startup)


__all__ = ["setup_scripts"]
