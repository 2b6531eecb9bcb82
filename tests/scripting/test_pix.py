import binascii
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scripting.pix import PixError, build_pix_payload, crc16_ccitt_false, decode_pix_payload, parse_tlv

# The Central Bank's BR Code manual example, as given in the reference (§3.2).
BCB_MANUAL_EXAMPLE = (
    "00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-4266554400005204000053039865802BR"
    "5913Fulano de Tal6008BRASILIA62070503***63041D3D"
)


def independent_crc(text: str) -> str:
    return f"{binascii.crc_hqx(text.encode('ascii'), 0xFFFF):04X}"


def test_crc_check_value() -> None:
    assert crc16_ccitt_false(b"123456789") == 0x29B1


def test_bcb_manual_example() -> None:
    payload = build_pix_payload("123e4567-e12b-12d1-a456-426655440000", "Fulano de Tal", "BRASILIA")
    assert payload == BCB_MANUAL_EXAMPLE
    assert independent_crc(payload[:-4]) == "1D3D"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ("+5511987654321", "COBRANCA EXEMPLO LTDA", "SAO PAULO", Decimal("150.00"), "ACORDO123456"),
            "00020126360014br.gov.bcb.pix0114+55119876543215204000053039865406150.005802BR5921COBRANCA EXEMPLO LTDA"
            "6009SAO PAULO62160512ACORDO1234566304A0B8",
        ),
        (
            ("12345678909", "FULANO DE TAL", "RIO DE JANEIRO", Decimal("1050.20"), None),
            "00020126330014br.gov.bcb.pix01111234567890952040000530398654071050.205802BR5913FULANO DE TAL"
            "6014RIO DE JANEIRO62070503***63041829",
        ),
    ],
)
def test_reference_collection_vectors(args: tuple, expected: str) -> None:  # type: ignore[type-arg]
    assert build_pix_payload(*args) == expected


@pytest.mark.parametrize(
    "payload",
    [
        "00020126500014BR.GOV.BCB.PIX0128mariannavidal12345@gmail.com520400005303986540580.005802BR"
        "5923Marianna Vidal da Silva6009SAO PAULO62140510Uog7w1SbFq63044416",
        "00020126330014BR.GOV.BCB.PIX011197212482404520400005303986540530.005802BR5918Victor Julio Rocha"
        "6006RECIFE62110507VIPSURF630425A1",
    ],
)
def test_decodes_real_world_payloads(payload: str) -> None:
    code = decode_pix_payload(payload)
    assert code.amount is not None and code.amount > 0
    # Rebuilding from the decoded fields gives the same payload apart from the GUI's case.
    rebuilt = build_pix_payload(code.key, code.name, code.city, code.amount, code.txid)
    assert rebuilt.replace("br.gov.bcb.pix", "BR.GOV.BCB.PIX")[:-4] == payload[:-4]


def test_names_are_normalised_and_cut() -> None:
    payload = build_pix_payload(
        "12345678909", "Cobrança São João Serviços Financeiros Ltda", "São José dos Campos", description="Acordo nº 12"
    )
    code = decode_pix_payload(payload)
    assert code.name == "Cobranca Sao Joao Servico"
    assert code.city == "Sao Jose dos Ca"
    assert code.description == "Acordo no 12"  # NFKD turns º into o
    assert code.txid == "***"
    assert payload.isascii()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"key": "123"}, "key: not a CPF"),
        ({"key": "12345678900"}, "CPF with wrong check digits"),
        ({"key": "11222333000182"}, "CNPJ with wrong check digits"),
        ({"key": "+55119876"}, "phone key"),
        ({"key": "a@b"}, "e-mail"),
        ({"txid": "pedido-12"}, "txid"),
        ({"txid": "A" * 26}, "txid"),
        ({"amount": Decimal("0")}, "amount"),
        ({"amount": Decimal("1.005")}, "whole cents"),
        ({"name": "???"}, None),
        ({"name": "€€€"}, "name: empty"),
        ({"description": "x" * 80}, "description: at most"),
    ],
)
def test_bad_values_are_named(kwargs: dict, message: str | None) -> None:  # type: ignore[type-arg]
    args = {"key": "12345678909", "name": "Fulano", "city": "Recife"}
    args.update(kwargs)
    if message is None:
        build_pix_payload(**args)  # "???" is printable ASCII: accepted as is
        return
    with pytest.raises(PixError, match=message):
        build_pix_payload(**args)


def test_keys_are_canonicalised() -> None:
    assert decode_pix_payload(build_pix_payload("123.456.789-09", "F", "C")).key == "12345678909"
    assert decode_pix_payload(build_pix_payload("11.222.333/0001-81", "F", "C")).key == "11222333000181"
    assert decode_pix_payload(build_pix_payload("Fulano@Example.COM", "F", "C")).key == "fulano@example.com"


def test_decoder_rejects_bad_crc_and_structure() -> None:
    with pytest.raises(PixError, match="CRC is 0000 but the content gives 1D3D"):
        decode_pix_payload(BCB_MANUAL_EXAMPLE[:-4] + "0000")
    with pytest.raises(PixError, match="does not end with a CRC"):
        decode_pix_payload("000201")
    with pytest.raises(PixError, match="declares 99 characters"):
        parse_tlv("0099abc")
    broken = "000201520400005303986" + "6304"
    with pytest.raises(PixError, match="field 26 is missing"):
        decode_pix_payload(broken + independent_crc(broken))


pix_text = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=255), min_size=1, max_size=40).filter(
    lambda s: any(c.isalnum() and c.isascii() for c in s)
)


@given(
    pix_text,
    pix_text,
    st.one_of(st.none(), st.decimals(min_value=Decimal("0.01"), max_value=Decimal("999999999.99"), places=2)),
    st.one_of(st.none(), st.text(alphabet="abcXYZ0123456789", min_size=1, max_size=25)),
)
def test_round_trip_and_independent_crc(name: str, city: str, amount: Decimal | None, txid: str | None) -> None:
    payload = build_pix_payload("fulano@example.com", name, city, amount, txid)
    assert payload[-4:] == independent_crc(payload[:-4])
    code = decode_pix_payload(payload)
    assert code.amount == amount
    assert code.txid == (txid or "***")
    assert len(code.name) <= 25 and len(code.city) <= 15
