"""``cobra script``: validate a negotiation script, preview a step with a sample customer."""

from __future__ import annotations

from pathlib import Path

import click

from scripting.render import TemplateRefused, as_plain_text, render_text, sample_context
from scripting.script import ScriptError, check_script


@click.group("script")
def script_group() -> None:
    """Negotiation scripts (YAML): validation and preview."""


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"{path}: cannot read: {exc}") from None


@script_group.command("validate")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def validate_command(file: Path) -> None:
    """Check FILE; print "ok" and a summary, or each problem as FILE:LINE: step ID: message (exit 1)."""
    try:
        script = check_script(_read(file), str(file))
    except ScriptError as exc:
        for issue in exc.issues:
            click.echo(issue.format(str(file)), err=True)
        click.echo(f"{len(exc.issues)} problem(s) in {file}", err=True)
        raise SystemExit(1) from None
    outcomes = sorted({c.dispose for s in script.steps for c in s.choices if c.dispose})
    click.echo(
        f"ok: {file}: script {script.id} version {script.version}, {len(script.steps)} steps, "
        f"outcomes {', '.join(outcomes)}"
    )


@script_group.command("render")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--step", "step_id", required=True, help="Id of the step to preview.")
@click.option(
    "--before-identity",
    is_flag=True,
    help="Render as if the identity were not confirmed yet (debt variables are then refused).",
)
def render_command(file: Path, step_id: str, before_identity: bool) -> None:
    """Preview step ID of FILE with a fictitious sample customer."""
    try:
        script = check_script(_read(file), str(file))
    except ScriptError as exc:
        for issue in exc.issues:
            click.echo(issue.format(str(file)), err=True)
        raise SystemExit(1) from None
    try:
        step = script.step(step_id)
    except KeyError:
        raise click.BadParameter(f"no step '{step_id}' (steps: {', '.join(script.step_ids)})", param_hint="--step") from None
    try:
        text = render_text(step.text, sample_context(), identity_confirmed=not before_identity)
    except TemplateRefused as exc:
        raise click.ClickException(f"step {step_id}: {exc}") from None
    click.echo(f"[{step.id}] {step.title}")
    click.echo(as_plain_text(text).rstrip("\n"))  # a terminal shows text, not HTML entities
    for choice in step.choices:
        target = f"-> {choice.next}" if choice.next else f"=> {choice.dispose}"
        click.echo(f"  ({choice.id}) {choice.label} {target}")
