"""``cobra pix`` (web/cli/pix.py) through click's runner."""

from click.testing import CliRunner

from scripting.pix import decode_pix_payload
from web.cli.main import cli


def test_prints_the_payload() -> None:
    result = CliRunner().invoke(
        cli,
        ["pix", "--key", "+5511987654321", "--name", "COBRANCA EXEMPLO LTDA", "--city", "SAO PAULO",
         "--amount", "150,00", "--txid", "ACORDO123456"],
    )
    assert result.exit_code == 0, result.output
    assert result.output.strip() == (
        "00020126360014br.gov.bcb.pix0114+55119876543215204000053039865406150.005802BR5921COBRANCA EXEMPLO LTDA"
        "6009SAO PAULO62160512ACORDO1234566304A0B8"
    )


def test_bad_values_exit_nonzero_with_the_field() -> None:
    result = CliRunner().invoke(cli, ["pix", "--key", "123", "--name", "N", "--city", "C"])
    assert result.exit_code == 1 and "key: not a CPF" in result.output
    result = CliRunner().invoke(cli, ["pix", "--key", "12345678909", "--name", "N", "--city", "C", "--amount", "dez"])
    assert result.exit_code == 2 and "--amount" in result.output


def test_writes_a_qr_svg(tmp_path) -> None:  # type: ignore[no-untyped-def]
    segno = __import__("pytest").importorskip("segno")
    target = tmp_path / "pix.svg"
    result = CliRunner().invoke(
        cli, ["pix", "--key", "12345678909", "--name", "Fulano", "--city", "Recife", "--amount", "10.00", "--qr", str(target)]
    )
    assert result.exit_code == 0, result.output
    svg = target.read_text(encoding="utf-8")
    assert svg.startswith("<?xml") and "<svg" in svg
    payload = result.output.splitlines()[0]
    decode_pix_payload(payload)
    # The QR encodes exactly the printed payload: segno renders the same SVG for it.
    expected = tmp_path / "expected.svg"
    segno.make(payload, error="m", micro=False).save(str(expected), kind="svg", scale=4, border=4)
    assert svg == expected.read_text(encoding="utf-8")
    bad = CliRunner().invoke(cli, ["pix", "--key", "12345678909", "--name", "F", "--city", "R", "--qr", str(tmp_path / "x.png")])
    assert bad.exit_code == 2 and ".svg" in bad.output
