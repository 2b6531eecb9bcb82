"""``sensitive: true`` steps (card data): loaded, validated, and the default script's card step."""

from __future__ import annotations

import pytest

from scripting.script import (
    ScriptError,
    check_script,
    load_default_script,
    load_script,
    validate_script,
)
from tests.scripting.test_script import GOOD

CARD = GOOD.replace(
    "      - id: acordo\n        label: Acordo\n",
    "      - id: cartao\n        label: Cartão\n        next: cartao\n"
    "      - id: acordo\n        label: Acordo\n",
) + (
    "  - id: cartao\n"
    "    title: Cartão\n"
    "    sensitive: true\n"
    "    text: Informe o número do cartão.\n"
    "    choices:\n"
    "      - id: feito\n"
    "        label: Feito\n"
    "        dispose: ACORDO\n"
)


def test_a_sensitive_step_loads_with_its_flag_and_others_default_to_off() -> None:
    script = check_script(CARD)
    assert script.step("cartao").sensitive is True
    assert [s.id for s in script.steps if s.sensitive] == ["cartao"]


def test_sensitive_must_be_true_or_false() -> None:
    with pytest.raises(ScriptError, match="sensitive: deve ser true ou false"):
        load_script(CARD.replace("sensitive: true", "sensitive: sim"))


def test_the_start_step_cannot_be_sensitive() -> None:
    text = GOOD.replace("    title: Abertura\n", "    title: Abertura\n    sensitive: true\n", 1)
    issues = validate_script(load_script(text))
    assert any(i.step == "abertura" and "passo inicial não pode ser sensível" in i.message for i in issues)


def test_a_sensitive_step_reachable_before_the_identity_check_is_refused_with_the_path() -> None:
    # card data only from the confirmed debtor: "terceiro" now leads to the card step
    text = CARD.replace("        label: Terceiro\n        dispose: RECADO\n", "        label: Terceiro\n        next: cartao\n")
    with pytest.raises(ScriptError) as info:
        check_script(text)
    assert "é sensível (dados de cartão), mas pode ser alcançado antes da confirmação de identidade" in str(info.value)
    assert "abertura -> cartao" in str(info.value)


def test_the_default_script_has_a_card_step_after_the_identity_check() -> None:
    script = load_default_script()
    card = script.step("dados_cartao")
    assert card.sensitive and "gravação" in card.text and "pausada" in card.text
    assert any(c.next == "dados_cartao" for c in script.step("forma_pagamento").choices)
    assert {c.next for c in card.choices} == {"encerramento", "forma_pagamento"}
    assert [s.id for s in script.steps if s.sensitive] == ["dados_cartao"]
