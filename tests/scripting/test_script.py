import itertools
import textwrap

import pytest

from scripting.render import check_template
from scripting.script import (
    IDENTITY_GATE,
    RIGHT_PARTY_OUTCOMES,
    ScriptError,
    check_script,
    load_default_script,
    load_script,
    validate_script,
)

GOOD = textwrap.dedent(
    """\
    id: teste
    version: 2
    title: Teste
    steps:
      - id: abertura
        title: Abertura
        text: Olá, falo da {{ empresa.nome }}. Posso falar com {{ cliente.nome }}?
        choices:
          - id: sim
            label: É a pessoa
            next: identidade
          - id: terceiro
            label: Terceiro
            dispose: RECADO
      - id: identidade
        title: Identidade
        gate: identity_confirmed
        text: Confirme a data de nascimento.
        choices:
          - id: ok
            label: Confere
            next: divida
            confirms_identity: true
          - id: nao
            label: Não confere
            dispose: RECADO
      - id: divida
        title: Dívida
        actions: [open_offer_calculator]
        text: |
          O total é {{ divida.total }}.
          Credor: {{ credor.nome }}.
        choices:
          - id: acordo
            label: Acordo
            dispose: ACORDO
            capture:
              key: forma
              catalogue:
                - {code: PIX, label: Pix}
    """
)


def errors(text: str) -> list[str]:
    try:
        check_script(text, "s.yaml")
    except ScriptError as exc:
        return [issue.format("s.yaml") for issue in exc.issues]
    return []


def test_good_script_loads() -> None:
    script = check_script(GOOD, "s.yaml")
    assert (script.id, script.version, script.start) == ("teste", 2, "abertura")
    step = script.step("divida")
    assert step.line == 27 and step.text_line == 31
    assert step.choices[0].capture is not None and step.choices[0].capture.codes() == {"PIX"}


def test_unknown_next_step_names_step_and_line() -> None:
    assert errors(GOOD.replace("next: divida", "next: dividas")) == [
        "s.yaml:22: passo identidade: escolha 'ok': o próximo passo 'dividas' não existe",  # the `next:` line
        "s.yaml:27: passo divida: inalcançável a partir do passo inicial 'abertura'",
    ]


def test_unreachable_step() -> None:
    extra = "  - id: solto\n    title: Solto\n    text: oi\n    choices:\n      - {id: fim, label: Fim, dispose: RECADO}\n"
    assert errors(GOOD + extra) == ["s.yaml:41: passo solto: inalcançável a partir do passo inicial 'abertura'"]


def test_dead_end_loop() -> None:
    text = GOOD.replace("dispose: ACORDO", "next: laco") + (
        "  - id: laco\n    title: Laço\n    text: oi\n    choices:\n      - {id: volta, label: Volta, next: divida}\n"
    )
    assert errors(text) == [
        "s.yaml:27: passo divida: beco sem saída: nenhum resultado pode ser alcançado a partir deste passo",
        "s.yaml:41: passo laco: beco sem saída: nenhum resultado pode ser alcançado a partir deste passo",
    ]


def test_template_problems_point_at_the_template_line() -> None:
    text = GOOD.replace("Credor: {{ credor.nome }}.", "Credor: {{ credor.cnpj }}.")
    assert errors(text) == [
        "s.yaml:32: passo divida: variável desconhecida 'credor.cnpj' (conhecidas: nome)",
    ]


def test_sandbox_escape_is_refused_at_validation() -> None:
    text = GOOD.replace("Confirme a data de nascimento.", "\"{{ ''.__class__.__mro__ }}\"")
    assert errors(text) == [
        "s.yaml:18: passo identidade: o atributo interno '__class__' não é permitido",
        "s.yaml:18: passo identidade: o atributo interno '__mro__' não é permitido",
    ]


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("\"{{ 'a' * 100000000 }}\"", "número grande demais em '*' (o texto de um passo tem no máximo 20.000 caracteres)"),
        ("\"{% set n = 20000000 %}{{ cliente.nome * n }}\"", "o resultado teria 400.000.000 caracteres (limite de 20.000 por passo)"),
        ("\"{% autoescape false %}{{ cliente.nome }}{% endautoescape %}\"", "o escape do texto não pode ser desligado ({% autoescape %} não é permitido)"),
        ("\"{{ cliente.nome|safe }}\"", "o filtro 'safe' não é permitido: o texto do roteiro é sempre escapado"),
    ],
)
def test_unsafe_and_oversized_templates_are_refused_with_step_and_line(template: str, message: str) -> None:
    # the trial render with the sample customer catches limits that only show when the text is evaluated
    text = GOOD.replace("Confirme a data de nascimento.", template)
    assert errors(text) == [f"s.yaml:18: passo identidade: {message}"]


def test_debt_before_identity_is_refused_with_the_path() -> None:
    text = GOOD.replace("        next: identidade", "        next: divida")
    found = errors(text)
    assert "s.yaml:15: passo identidade: inalcançável a partir do passo inicial 'abertura'" in found
    assert (
        "s.yaml:27: passo divida: mostra credor.*, divida.*, mas pode ser alcançado antes da confirmação de "
        "identidade (abertura -> divida)" in found
    )
    assert any("o resultado ACORDO exige identidade confirmada" in e for e in found)


def test_offer_calculator_counts_as_debt_detail() -> None:
    text = GOOD.replace("        next: identidade", "        next: divida").replace("{{ divida.total }}", "x").replace(
        "{{ credor.nome }}", "y"
    )
    assert any("abre a calculadora de ofertas, mas pode ser alcançado antes" in e for e in errors(text))


def test_right_party_outcome_before_identity() -> None:
    text = GOOD.replace("dispose: RECADO\n  - id: identidade", "dispose: PROMESSA\n  - id: identidade")
    assert errors(text) == [
        ("s.yaml:14: passo abertura: escolha 'terceiro': o resultado PROMESSA exige identidade confirmada, "
         "mas este passo pode ser alcançado antes da confirmação")  # the `dispose:` line
    ]


def test_unknown_outcome_and_custom_catalogue() -> None:
    text = GOOD.replace("dispose: ACORDO", "dispose: QUITADO")
    assert errors(text)[0].startswith("s.yaml:36: passo divida: escolha 'acordo': resultado desconhecido 'QUITADO'")
    script = load_script(text)
    assert validate_script(script, outcomes=frozenset({"QUITADO", "RECADO"})) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("title: Teste\n", ""), "s.yaml:1: roteiro: falta 'title'"),
        (("version: 2", "version: dois"), "s.yaml:2: version: deve ser um número inteiro maior ou igual a 1"),
        (("    title: Identidade\n", "    title: Identidade\n    title: Outra\n"),
         "s.yaml:17: passo identidade: passo: chave 'title' repetida"),
        (("        next: identidade\n", "        next: identidade\n        dispose: RECADO\n"),
         "precisa de exatamente um entre 'next'"),
        (("actions: [open_offer_calculator]", "actions: [voar]"), "s.yaml:29: passo divida: actions: ação desconhecida 'voar'"),
        (("gate: identity_confirmed", "gate: outra"), "s.yaml:17: passo identidade: gate desconhecido 'outra'"),
        (("  - id: identidade", "  - id: Identidade X"), "id do passo 'Identidade X': use letras minúsculas"),
        (("    text: Confirme a data de nascimento.\n", ""), "s.yaml:15: passo identidade: passo: falta 'text'"),
        (("title: Teste\n", "title: [Teste\n"), "s.yaml:4: YAML inválido: esperava ',' ou ']' (o trecho começa na linha 3)"),
        (("        label: Confere\n", "        label: Confere\n        bogus: 1\n"), "escolha: chave desconhecida 'bogus'"),
    ],
)
def test_structural_errors(change: tuple[str, str], expected: str) -> None:
    old, new = change
    assert old in GOOD
    found = errors(GOOD.replace(old, new, 1))
    assert any(expected in e for e in found), found


def test_gate_rules() -> None:
    text = GOOD.replace("        confirms_identity: true\n", "")
    found = errors(text)
    assert ("s.yaml:15: passo identidade: o passo de confirmação de identidade não tem escolha com "
            "confirms_identity: true") in found
    text = GOOD.replace("        next: identidade\n", "        next: identidade\n        confirms_identity: true\n")
    assert ("s.yaml:12: passo abertura: escolha 'sim': confirms_identity fora do passo de confirmação de "
            "identidade") in errors(text)  # the `confirms_identity:` line


def test_duplicate_step_and_choice_ids() -> None:
    text = GOOD.replace("  - id: identidade", "  - id: abertura")
    assert any("id de passo repetido (o primeiro está na linha 5)" in e for e in errors(text))
    text = GOOD.replace("      - id: nao", "      - id: ok")
    assert any("id de escolha 'ok' repetido" in e for e in errors(text))


# --- the shipped default script --------------------------------------------------------------


def test_default_script_validates_and_follows_spec_order() -> None:
    script = load_default_script()
    assert script.id == "padrao" and script.version >= 1
    happy = ["abertura", "identidade", "apresentar_divida", "motivo", "oferta", "objecoes", "confirmar"]
    for before, after in itertools.pairwise(happy):
        assert any(c.next == after for c in script.step(before).choices), (before, after)
    assert any(c.next == "forma_pagamento" for c in script.step("confirmar").choices)
    assert {c.dispose for c in script.step("encerramento").choices} == {"ACORDO", "PROMESSA"}
    assert script.step("identidade").gate == IDENTITY_GATE
    outcomes = {c.dispose for s in script.steps for c in s.choices if c.dispose}
    assert outcomes == {
        "ACORDO", "PROMESSA", "RECUSA", "SEM_CONDICOES", "CONTESTA", "JA_PAGO", "RETORNAR", "RECADO", "TELEFONE_ERRADO", "FALECIDO",
    }


def test_default_script_opening_has_the_recording_notice_and_no_debt() -> None:
    opening = load_default_script().step("abertura")
    assert "gravada" in opening.text
    assert not check_template(opening.text).reveals_debt


def test_default_script_third_party_gets_only_first_name_and_company() -> None:
    step = load_default_script().step("terceiro")
    check = check_template(step.text)
    assert check.namespaces == {"agente", "empresa", "cliente"}
    assert "agente.nome" not in step.text and "primeiro_nome" in step.text
    assert not any(c.dispose in RIGHT_PARTY_OUTCOMES for c in step.choices)


def test_default_script_marks_company_caused_reasons() -> None:
    motivo = load_default_script().step("motivo")
    company = {i.code for c in motivo.choices if c.capture for i in c.capture.catalogue if i.company_caused}
    assert company == {"NAO_RECEBEU_FATURA", "PROBLEMA_PRODUTO_SERVICO", "CONTESTA_COBRANCA"}
    financial = {i.code for c in motivo.choices if c.capture for i in c.capture.catalogue if not i.company_caused}
    assert {"DESEMPREGO", "REDUCAO_RENDA"} <= financial
