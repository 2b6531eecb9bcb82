"""The identity check (pure): answers compared with the record, three failures lock, overrides need a reason."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from dialer.floor.identity import (
    DEFAULT_OTHER_QUESTION,
    IdentityCheck,
    IdentityKey,
    IdentityMethod,
    IdentityRefused,
    IdentityStatus,
    OtherField,
    OtherQuestion,
    normalize_text,
    parse_birth_date,
)

T0 = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
KEY = IdentityKey(birth_date=date(1980, 5, 17), cpf="12345678909", other_question="E-mail cadastrado",
                  other_answer="Maria.Souza@Example.com")


def test_birth_date_formats_and_impossible_dates() -> None:
    assert parse_birth_date("17/05/1980") == date(1980, 5, 17)
    assert parse_birth_date("17051980") == date(1980, 5, 17)
    assert parse_birth_date(" 7.5.1980 ") == date(1980, 5, 7)
    assert parse_birth_date("31/02/1980") is None
    assert parse_birth_date("05/17/1980") is None  # mm/dd is not a date in pt-BR order
    assert parse_birth_date("1980-05-17") is None


def test_a_match_verifies_and_a_wrong_answer_costs_an_attempt() -> None:
    check = IdentityCheck(KEY)
    wrong = check.check(IdentityMethod.BIRTH_DATE, "18/05/1980", T0)
    assert not wrong.matched and check.attempts_left == 2 and check.status is IdentityStatus.PENDING
    right = check.check(IdentityMethod.BIRTH_DATE, "17/05/1980", T0 + timedelta(seconds=5))
    assert right.matched and check.released and check.settled_at == T0 + timedelta(seconds=5)
    with pytest.raises(IdentityRefused):
        check.check(IdentityMethod.CPF_PREFIX, "123", T0)


def test_malformed_answers_cost_nothing() -> None:
    check = IdentityCheck(KEY)
    for method, answer in ((IdentityMethod.BIRTH_DATE, "ontem"), (IdentityMethod.CPF_PREFIX, "12"),
                           (IdentityMethod.CPF_PREFIX, "1234"), (IdentityMethod.OTHER, "   ")):
        with pytest.raises(IdentityRefused):
            check.check(method, answer, T0)
    assert check.attempts == [] and check.attempts_left == 3


def test_cpf_prefix_and_other_question_normalised() -> None:
    assert IdentityCheck(KEY).check(IdentityMethod.CPF_PREFIX, "123", T0).matched
    assert not IdentityCheck(KEY).check(IdentityMethod.CPF_PREFIX, "456", T0).matched
    assert IdentityCheck(KEY).check(IdentityMethod.OTHER, "  maria.souza@example.COM ", T0).matched
    assert normalize_text("  José  da Silva ") == "jose da silva"


def test_three_failures_lock_and_only_a_reasoned_override_releases() -> None:
    check = IdentityCheck(KEY)
    for day in ("01/01/1990", "02/01/1990", "03/01/1990"):
        check.check(IdentityMethod.BIRTH_DATE, day, T0)
    assert check.status is IdentityStatus.LOCKED and check.attempts_left == 0 and not check.released
    with pytest.raises(IdentityRefused):
        check.check(IdentityMethod.BIRTH_DATE, "17/05/1980", T0)  # even the right answer, once locked
    with pytest.raises(IdentityRefused) as short:
        check.override("ok", T0)
    assert short.value.field == "reason"
    check.override("  Cliente   confirmou por e-mail do credor ", T0)
    assert check.status is IdentityStatus.OVERRIDDEN and check.released
    assert check.override_reason == "Cliente confirmou por e-mail do credor"


def test_only_the_questions_the_record_can_serve() -> None:
    bare = IdentityKey(cpf="12345678909")
    assert bare.methods() == (IdentityMethod.CPF_PREFIX,)
    with pytest.raises(IdentityRefused) as no_date:
        IdentityCheck(bare).check(IdentityMethod.BIRTH_DATE, "17/05/1980", T0)
    assert no_date.value.field == "method"
    assert IdentityKey().methods() == ()


# ---------------------------------------------------------------- the configured third question ([identity])


def test_the_default_third_question_is_the_e_mail_on_file() -> None:
    key = IdentityKey.of(DEFAULT_OTHER_QUESTION, birth_date=None, cpf="12345678909", email="ana@example.com",
                         uf="SP", external_id="C-1", contracts=("CT-1",))
    assert (key.other_question, key.other_answer) == ("E-mail cadastrado", "ana@example.com")
    assert IdentityCheck(key).check(IdentityMethod.OTHER, "ANA@example.com", T0).matched
    assert not IdentityCheck(key).check(IdentityMethod.OTHER, "SP", T0).matched  # other fields don't answer it
    no_email = IdentityKey.of(DEFAULT_OTHER_QUESTION, birth_date=None, cpf="12345678909", email=None)
    assert IdentityMethod.OTHER not in no_email.methods()  # not offered when the record can't serve it


def test_any_open_contract_answers_the_contract_question() -> None:
    question = OtherQuestion("Número de um contrato", OtherField.CONTRACT)
    key = IdentityKey.of(question, birth_date=None, cpf=None, email="x@y.com", contracts=("FIN-0042", "CT-7"))
    assert key.methods() == (IdentityMethod.OTHER,) and key.other_question == "Número de um contrato"
    assert IdentityCheck(key).check(IdentityMethod.OTHER, "ct-7", T0).matched
    assert IdentityCheck(key).check(IdentityMethod.OTHER, " fin-0042", T0).matched
    assert not IdentityCheck(key).check(IdentityMethod.OTHER, "x@y.com", T0).matched
    assert IdentityKey.of(question, birth_date=None, cpf=None, contracts=()).methods() == ()


def test_the_state_is_accepted_by_sigla_or_name_and_the_customer_code_as_stored() -> None:
    uf = IdentityKey.of(OtherQuestion("Estado onde mora", OtherField.UF), birth_date=None, cpf=None, uf="PE")
    for said in ("pe", "Pernambuco", "  pernambuco "):
        assert IdentityCheck(uf).check(IdentityMethod.OTHER, said, T0).matched
    assert not IdentityCheck(uf).check(IdentityMethod.OTHER, "Paraíba", T0).matched
    code = IdentityKey.of(OtherQuestion("Código do cliente", OtherField.EXTERNAL_ID), birth_date=None, cpf=None,
                          external_id="ABC-123")
    assert IdentityCheck(code).check(IdentityMethod.OTHER, "abc-123", T0).matched


def test_a_question_label_is_bounded_and_tidied() -> None:
    assert OtherQuestion("  Nome   da rua ", OtherField.EMAIL).label == "Nome da rua"
    for bad in ("", "ab", "x" * 61):
        with pytest.raises(ValueError, match="other_question"):
            OtherQuestion(bad, OtherField.EMAIL)
