"""Headless Chromium for the page tests: Debian's /usr/bin/chromium driven by Playwright.

Playwright can't download its own browsers here, so every browser test launches the
system chromium with the flags this machine needs, and skips (with the reason; a
failure under CI=true, see tests/conftest.py) when chromium or playwright is missing.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
# no sandbox as root; no GPU headless; no background traffic (the network is closed here)
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]

BROWSER_MARKS = [
    pytest.mark.browser,
    pytest.mark.skipif(
        importlib.util.find_spec("playwright") is None,
        reason="the playwright Python package is not installed (pip install playwright)",
    ),
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM),
        reason=f"{CHROMIUM} missing: apt-get install -y chromium (Playwright can't download browsers here)",
    ),
]


@asynccontextmanager
async def chromium() -> AsyncIterator[Any]:
    """A launched headless Chromium, closed on exit."""
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            await browser.close()
