"""The demo records its calls: after ``cobra demo --check`` the connected call has a real WAV in
``<dir>/gravacoes/YYYY/MM/DD/`` and the CLI configuration names that directory."""

from __future__ import annotations

import tomllib
import wave
from pathlib import Path

from sqlalchemy import select

from storage.engine import create_engine, session_factory
from storage.models import CallAttempt
from tests.web.conftest import FAST_HASHER
from web.config import load_config
from web.demo.check import run_check


async def test_the_demo_check_call_is_recorded_to_a_playable_wav(tmp_path: Path) -> None:
    demo = tmp_path / "demo"
    result = await run_check(demo, hasher=FAST_HASHER)
    assert result.ok, result.summary
    engine = create_engine(f"sqlite+aiosqlite:///{demo / 'cobra.db'}")
    try:
        async with session_factory(engine)() as db:
            paths = list(await db.scalars(
                select(CallAttempt.recording_path).where(CallAttempt.connected_at.is_not(None))
            ))
    finally:
        await engine.dispose()
    assert paths and all(p is not None for p in paths)
    recorded = [Path(p) for p in paths if p is not None]
    root = (demo / "gravacoes").resolve()
    for path in recorded:
        assert path.is_relative_to(root) and len(path.relative_to(root).parts) == 4  # YYYY/MM/DD/<id>.wav
    written = [p for p in recorded if p.is_file()]
    assert written, "the simulator wrote no recording"
    with wave.open(str(written[0]), "rb") as w:
        assert w.getframerate() == 8000 and w.getnframes() > 0
    # `cobra serve` / the CLI on the demo's configuration find the same directory
    config = tomllib.loads((demo / "cobra.toml").read_text(encoding="utf-8"))
    assert config["recording"]["dir"] == str(root)
    assert load_config(demo / "cobra.toml", environ={}).recording.dir == str(root)
