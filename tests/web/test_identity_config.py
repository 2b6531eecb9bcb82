"""``[identity]``: the third identity question's label and the stored field it checks, validated at load."""

from __future__ import annotations

from pathlib import Path

import pytest

from dialer.floor.identity import DEFAULT_OTHER_QUESTION, OtherField, OtherQuestion
from web.agent.dialer import dialer_settings_from
from web.config import Config, ConfigError, load_config


def _load(tmp_path: Path, toml: str, environ: dict[str, str] | None = None) -> Config:
    path = tmp_path / "cobra.toml"
    path.write_text(toml, encoding="utf-8")
    return load_config(path, environ=environ or {})


def test_default_keeps_the_e_mail_on_file(tmp_path: Path) -> None:
    config = _load(tmp_path, "")
    assert config.identity.question() == DEFAULT_OTHER_QUESTION
    assert DEFAULT_OTHER_QUESTION == OtherQuestion("E-mail cadastrado", OtherField.EMAIL)
    settings = dialer_settings_from(config)
    assert settings.identity_question == DEFAULT_OTHER_QUESTION


def test_a_configured_question_reaches_the_dialer(tmp_path: Path) -> None:
    config = _load(tmp_path, '[identity]\nother_question = "  Número de um  contrato "\nother_field = "contrato"\n')
    settings = dialer_settings_from(config)
    assert settings.identity_question == OtherQuestion("Número de um contrato", OtherField.CONTRACT)


def test_the_environment_overrides_it(tmp_path: Path) -> None:
    config = _load(tmp_path, "", {"COBRA_IDENTITY__OTHER_FIELD": "uf", "COBRA_IDENTITY__OTHER_QUESTION": "Estado onde mora"})
    assert config.identity.question() == OtherQuestion("Estado onde mora", OtherField.UF)


@pytest.mark.parametrize(
    ("toml", "says"),
    [
        ('[identity]\nother_field = "nome_da_mae"\n',
         "config key 'identity.other_field' in .*unknown customer field 'nome_da_mae'; use one of: email, uf, external_id, contrato"),
        ('[identity]\nother_question = "?"\n', "config key 'identity.other_question'.*3 to 60 characters"),
        ('[identity]\nother_question = "' + "x" * 61 + '"\n', "config key 'identity.other_question'.*3 to 60 characters"),
        ('[identity]\nquestion = "Cidade"\n', "config key 'identity.question'.*Extra inputs are not permitted"),
    ],
)
def test_bad_settings_name_the_key_and_the_choices(tmp_path: Path, toml: str, says: str) -> None:
    with pytest.raises(ConfigError, match=says):
        _load(tmp_path, toml)
