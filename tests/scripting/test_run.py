from datetime import UTC, datetime, timedelta

import pytest

from scripting.render import sample_context
from scripting.run import RunError, ScriptRun
from scripting.script import Action, load_default_script, load_script

T0 = datetime(2025, 5, 9, 13, 0, tzinfo=UTC)


def at(seconds: int) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_happy_path_records_steps_captures_identity_and_outcome() -> None:
    run = ScriptRun(load_default_script(), T0)
    assert run.current_step.id == "abertura" and not run.identity_confirmed
    assert "Ana" in run.render_current(sample_context())
    run.choose("pessoa_certa", at(5))
    run.choose("dados_conferem", at(30))
    assert run.identity_confirmed and run.identity_confirmed_at == at(30)
    assert "R$ 1.050,20" in run.render_current(sample_context())
    run.choose("reconhece", at(60))
    run.choose("motivo_financeiro", at(90), capture="DESEMPREGO")
    assert run.available_actions() == (Action.OPEN_OFFER_CALCULATOR,)
    run.choose("aceitou", at(120))
    run.choose("confirmou", at(150))
    run.choose("escolheu", at(160), capture="PIX")
    run.choose("acordo", at(170))
    assert run.finished and run.outcome == "ACORDO" and run.finished_at == at(170)
    assert run.path == [
        "abertura", "identidade", "apresentar_divida", "motivo", "oferta", "confirmar", "forma_pagamento", "encerramento",
    ]
    assert run.captures == {"motivo_atraso": "DESEMPREGO", "forma_pagamento": "PIX"}
    record = run.to_record()
    assert record["script_id"] == "padrao" and record["outcome"] == "ACORDO"
    assert record["steps"][3] == {
        "step_id": "motivo",
        "entered_at": at(60).isoformat(),
        "choice_id": "motivo_financeiro",
        "chosen_at": at(90).isoformat(),
        "capture_key": "motivo_atraso",
        "capture_value": "DESEMPREGO",
    }
    with pytest.raises(RunError, match="já terminou"):
        run.choose("acordo", at(200))


def test_third_party_path_never_renders_debt() -> None:
    run = ScriptRun(load_default_script(), T0)
    run.choose("terceiro", at(3))
    text = run.render_current(sample_context())
    assert "R$" not in text and "Banco Exemplo" not in text
    run.choose("recado_deixado", at(20))
    assert run.outcome == "RECADO" and not run.identity_confirmed


def test_bad_moves_are_named() -> None:
    run = ScriptRun(load_default_script(), T0)
    with pytest.raises(RunError, match="não há a escolha 'x' \\(escolhas: pessoa_certa, terceiro, nao_conhece\\)"):
        run.choose("x", at(1))
    with pytest.raises(RunError, match="não registra valor"):
        run.choose("pessoa_certa", at(1), capture="y")
    with pytest.raises(RunError, match="deve ter fuso horário"):
        run.choose("pessoa_certa", datetime(2025, 5, 9, 13, 0))
    with pytest.raises(RunError, match="anterior à entrada no passo"):
        run.choose("pessoa_certa", T0 - timedelta(seconds=1))
    run.choose("pessoa_certa", at(1))
    run.choose("dados_conferem", at(2))
    run.choose("reconhece", at(3))
    with pytest.raises(RunError, match="precisa de um valor para 'motivo_atraso'"):
        run.choose("motivo_financeiro", at(4))
    with pytest.raises(RunError, match="'NAO_RECEBEU_FATURA' não está no catálogo"):
        run.choose("motivo_financeiro", at(4), capture="NAO_RECEBEU_FATURA")
    run.choose("motivo_empresa", at(4), capture="NAO_RECEBEU_FATURA")
    assert run.current_step.id == "problema_empresa"


def test_run_refuses_debt_steps_before_identity_even_in_an_unvalidated_script() -> None:
    script = load_script(
        "id: ruim\nversion: 1\ntitle: Ruim\nsteps:\n"
        "  - id: a\n    title: A\n    text: oi\n    choices:\n      - {id: pular, label: Pular, next: b}\n"
        "  - id: b\n    title: B\n    text: '{{ divida.total }}'\n    choices:\n      - {id: fim, label: Fim, dispose: ACORDO}\n"
    )
    run = ScriptRun(script, T0)
    with pytest.raises(RunError, match="passo b: mostra dados da dívida e a identidade não foi confirmada"):
        run.choose("pular", at(1))
    assert run.current_step.id == "a"  # nothing recorded for a refused move
    assert run.entries[0].choice_id is None
