"""What every ``cobra`` subcommand shares: the --config option and error reporting."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import click

from web.config import Config, ConfigError, load_config

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")


def config_option(func: F) -> F:
    """Adds ``--config FILE`` (falls back to COBRA_CONFIG, then ./cobra.toml, then defaults)."""
    return click.option(
        "--config",
        "config_path",
        type=click.Path(dir_okay=False),
        default=None,
        help="Configuration file (default: $COBRA_CONFIG, else ./cobra.toml, else embedded defaults).",
    )(func)


def get_config(config_path: str | None) -> Config:
    try:
        return load_config(config_path)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """Click does not run coroutines; this does, once per command."""
    return asyncio.run(coro)
