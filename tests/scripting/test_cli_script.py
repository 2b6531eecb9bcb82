"""``cobra script validate|render`` (web/cli/script.py) through click's runner."""

from pathlib import Path

from click.testing import CliRunner

from web.cli.main import cli

DEFAULT = str(Path(__file__).resolve().parents[2] / "scripting" / "scripts" / "padrao.yaml")


def test_validate_ok() -> None:
    result = CliRunner().invoke(cli, ["script", "validate", DEFAULT])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"ok: {DEFAULT}: script padrao version 1, 21 steps")


def test_validate_errors_are_file_line_step(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "id: x\nversion: 1\ntitle: X\nsteps:\n"
        "  - id: a\n    title: A\n    text: '{{ cliente.cpf }}'\n    choices:\n      - {id: b, label: B, next: nada}\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(cli, ["script", "validate", str(bad)])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert f"{bad}:5: passo a: beco sem saída: nenhum resultado pode ser alcançado a partir deste passo" in lines
    assert any(line.startswith(f"{bad}:7: passo a: variável desconhecida 'cliente.cpf'") for line in lines)
    assert f"{bad}:9: passo a: escolha 'b': o próximo passo 'nada' não existe" in lines


def test_render_preview_with_sample_customer() -> None:
    result = CliRunner().invoke(cli, ["script", "render", DEFAULT, "--step", "apresentar_divida"])
    assert result.exit_code == 0, result.output
    assert "[apresentar_divida] Apresentação do débito" in result.output
    assert "R$ 1.050,20" in result.output
    assert "(reconhece) Reconhece o débito -> motivo" in result.output


def test_render_before_identity_refuses_debt_and_unknown_step() -> None:
    result = CliRunner().invoke(cli, ["script", "render", DEFAULT, "--step", "oferta", "--before-identity"])
    assert result.exit_code == 1 and "antes da confirmação de identidade" in result.output
    result = CliRunner().invoke(cli, ["script", "render", DEFAULT, "--step", "nenhum"])
    assert result.exit_code == 2 and "no step 'nenhum'" in result.output
