"""``cobra script`` and ``cobra pix`` as a user runs them: a real process."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def cobra(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from web.cli.main import main; main()", *args],
        cwd=ROOT,
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_validate_and_render_default_script() -> None:
    done = cobra("script", "validate", "scripting/scripts/padrao.yaml")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ok: scripting/scripts/padrao.yaml")
    done = cobra("script", "render", "scripting/scripts/padrao.yaml", "--step", "abertura")
    assert done.returncode == 0, done.stderr
    assert "esta ligação está sendo gravada" in done.stdout


def test_validate_failure_exit_code(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: x\nversion: 1\ntitle: X\nsteps: []\n", encoding="utf-8")
    done = cobra("script", "validate", str(bad))
    assert done.returncode == 1
    assert f"{bad}:4: steps: deve ser uma lista não vazia" in done.stderr


def test_pix_payload_from_a_process() -> None:
    done = cobra("pix", "--key", "123e4567-e12b-12d1-a456-426655440000", "--name", "Fulano de Tal", "--city", "BRASILIA")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("63041D3D")
