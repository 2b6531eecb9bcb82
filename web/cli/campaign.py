"""``cobra campaign``: add, list, start, pause and stop campaigns, turn their recording on or off, and show a campaign's segments.

Status changes go through ``storage.repositories.campaigns.set_campaign_status`` (audited with
source "cli"), as the REST API's do; a running service picks them up on its periodic re-read."""

from __future__ import annotations

import json
from typing import Any, TypeVar

import click
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from dialer.ami import sanitize
from dialer.clocks import system_clock
from dialer.errors import AmiValueError
from storage.models import Campaign, CampaignMode, CampaignStatus, Lead, LeadState
from storage.repositories.audit import record
from storage.repositories.campaigns import (
    add_campaign,
    get_campaign_by_name,
    list_campaigns,
    set_campaign_status,
)
from storage.repositories.recordings import set_campaign_recording
from storage.repositories.segments import boosted_leads, list_segments
from web.cli.common import (
    CONTEXT_SETTINGS,
    config_option,
    get_config,
    in_database,
    run_async,
)

T = TypeVar("T")


async def campaign_named(db: AsyncSession, name: str) -> Campaign:
    campaign = await get_campaign_by_name(db, name)
    if campaign is None:
        raise click.ClickException(f"no campaign named {name!r}: add it with `cobra campaign add {name!r}`")
    return campaign


@click.group("campaign", context_settings=CONTEXT_SETTINGS)
def campaign_group() -> None:
    """Dialing campaigns: add, list, start, pause, stop, and show their segments."""


@campaign_group.command("add")
@click.argument("name")
@click.option(
    "--mode", type=click.Choice([m.value for m in CampaignMode]), default=CampaignMode.PROGRESSIVE.value,
    show_default=True, help="Pacing mode.",
)
@click.option(
    "--dial-template", default="PJSIP/{number}@trunk", show_default=True,
    help="Asterisk dial string with {number}, e.g. PJSIP/{number}@trunk or Local/{number}@cust-sim.",
)
@click.option("--caller-id", default="", help="Number shown to the debtor (digits, e.g. 551130000000).")
@click.option("--pbx", "pbx_name", default="default", show_default=True, help="Name of the [[pbx]] entry to dial through.")
@config_option
def add_command(name: str, mode: str, dial_template: str, caller_id: str, pbx_name: str, config_path: str | None) -> None:
    """Add campaign NAME (created paused: start it with `cobra campaign start NAME`)."""
    name = " ".join(name.split())
    if not name:
        raise click.UsageError("NAME must not be empty")
    if caller_id and not caller_id.isdigit():
        raise click.UsageError(f"--caller-id {caller_id!r}: digits only")
    try:
        # checked here, not first at originate time: a bad template fails every lead's attempt
        sanitize.dial_template("--dial-template", dial_template)
    except AmiValueError as exc:
        raise click.ClickException(
            f"modelo de discagem inválido / invalid dial template: {exc}"
            " (ex.: PJSIP/{number}@trunk; sem quebras de linha, espaços, vírgulas ou &)"
        ) from None

    async def add(db: AsyncSession) -> Campaign:
        campaign = await add_campaign(
            db, name=name, dial_template=dial_template, caller_id=caller_id, pbx_name=pbx_name, mode=mode
        )
        await record(
            db, user_id=None, action="campaign.add", entity="campaign", entity_id=campaign.id, before=None,
            after={"name": name, "mode": mode, "dial_template": dial_template, "caller_id": caller_id},
        )
        return campaign

    campaign = run_async(in_database(get_config(config_path), add))
    click.echo(f"campaign {campaign.name} added (id {campaign.id}, {mode}, paused)")


@campaign_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array instead of a table.")
@config_option
def list_command(as_json: bool, config_path: str | None) -> None:
    """List campaigns with their mode, status and lead counts."""

    async def fetch(db: AsyncSession) -> list[tuple[Campaign, int, int]]:
        out = []
        for campaign in await list_campaigns(db):
            total = await db.scalar(select(func.count()).select_from(Lead).where(Lead.campaign_id == campaign.id))
            live = await db.scalar(
                select(func.count())
                .select_from(Lead)
                .where(Lead.campaign_id == campaign.id, Lead.state.in_((LeadState.NEW, LeadState.DIALABLE)))
            )
            out.append((campaign, int(total or 0), int(live or 0)))
        return out

    rows = run_async(in_database(get_config(config_path), fetch))
    if as_json:
        click.echo(json.dumps([
            {"id": c.id, "name": c.name, "mode": CampaignMode(c.mode).value, "status": CampaignStatus(c.status).value,
             "dial_template": c.dial_template, "caller_id": c.caller_id, "leads": total, "dialable_leads": live}
            for c, total, live in rows
        ], ensure_ascii=False))
        return
    if not rows:
        click.echo("no campaigns yet: add one with `cobra campaign add NAME`")
        return
    table = [("ID", "NAME", "MODE", "STATUS", "LEADS", "DIALABLE")] + [
        (str(c.id), c.name, CampaignMode(c.mode).value, CampaignStatus(c.status).value, str(total), str(live))
        for c, total, live in rows
    ]
    widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
    for row in table:
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


def _set_status(name: str, status: CampaignStatus, config_path: str | None) -> None:
    async def change(db: AsyncSession) -> str:
        campaign = await campaign_named(db, name)
        # a CLI run is outside the service: the real clock, no user (the audit says "cli")
        changed = await set_campaign_status(db, campaign.id, status, user_id=None, at=system_clock(), source="cli")
        if changed is None:  # deleted between the two statements
            raise click.ClickException(f"no campaign named {name!r}")
        before, after = changed
        note = "" if before is not after else " (no change)"
        return f"campaign {campaign.name}: {before.value} → {after.value}{note}"

    click.echo(run_async(in_database(get_config(config_path), change)))


@campaign_group.command("start")
@click.argument("name")
@config_option
def start_command(name: str, config_path: str | None) -> None:
    """Start dialing campaign NAME."""
    _set_status(name, CampaignStatus.ACTIVE, config_path)


@campaign_group.command("pause")
@click.argument("name")
@config_option
def pause_command(name: str, config_path: str | None) -> None:
    """Pause campaign NAME for now (calls in progress end normally)."""
    _set_status(name, CampaignStatus.PAUSED, config_path)


@campaign_group.command("stop")
@click.argument("name")
@config_option
def stop_command(name: str, config_path: str | None) -> None:
    """Stop campaign NAME: off the floor until started again (calls in progress end normally)."""
    _set_status(name, CampaignStatus.STOPPED, config_path)


@campaign_group.command("segments")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (segments and boosts) instead of text.")
@config_option
def segments_command(name: str, as_json: bool, config_path: str | None) -> None:
    """Show the ordered segments and the boosted accounts of campaign NAME."""

    async def fetch(db: AsyncSession) -> tuple[list[Any], dict[str, int]]:
        campaign = await campaign_named(db, name)
        return await list_segments(db, campaign.id), await boosted_leads(db, campaign.id)

    segments, boosts = run_async(in_database(get_config(config_path), fetch))
    if as_json:
        click.echo(json.dumps({
            "segments": [{"position": s.position, "name": s.name, "weight": s.weight, "filters": s.filters} for s in segments],
            "boosts": boosts,
        }, ensure_ascii=False))
        return
    if not segments:
        click.echo("no segments: every lead is dialled by boost, then oldest next attempt")
    for seg in segments:
        filters = ", ".join(f"{k}={v}" for k, v in seg.filters.items()) or "(everyone)"
        click.echo(f"{seg.position + 1}. {seg.name} (weight {seg.weight}): {filters}")
    if boosts:
        click.echo("boosts: " + ", ".join(f"{ext} {value:+d}" for ext, value in boosts.items()))


@campaign_group.command("recording")
@click.argument("name")
@click.argument("state", type=click.Choice(["on", "off"]))
@config_option
def recording_command(name: str, state: str, config_path: str | None) -> None:
    """Record the connected calls of campaign NAME (on, the default) or not (off)."""

    async def change(db: AsyncSession) -> str:
        campaign = await campaign_named(db, name)
        changed = await set_campaign_recording(
            db, campaign.id, state == "on", user_id=None, at=system_clock(), source="cli"
        )
        if changed is None:  # deleted between the two statements
            raise click.ClickException(f"no campaign named {name!r}")
        before, after = changed
        word = {True: "on", False: "off"}
        note = "" if before is not after else " (no change)"
        return f"campaign {campaign.name}: recording {word[before]} → {word[after]}{note}"

    click.echo(run_async(in_database(get_config(config_path), change)))
