"""Unit tests of the LLM call contract with the scripted fake model, and of endpoint selection."""

from __future__ import annotations

from typing import Any

import httpx2
import openai
import pytest
from fakes import FakeChatModel, reply_with_usage
from langchain_openai import ChatOpenAI
from pydantic import BaseModel

from interviewer.config import load_settings
from interviewer.errors import AuthenticationFailed, BadModelOutput, EndpointUnavailable, ModelError
from interviewer.llm import (
    LLMReply,
    Usage,
    build_chat_model,
    complete,
    map_error,
    parse_structured,
    resolve_endpoint,
    stream,
    system,
    user,
)
from interviewer.tokens import count_tokens


class Verdict(BaseModel):
    score: int
    reason: str


def _drain(generator: Any) -> tuple[list[str], LLMReply]:
    pieces: list[str] = []
    while True:
        try:
            pieces.append(next(generator))
        except StopIteration as done:
            return pieces, done.value


# --- complete / stream / usage --------------------------------------------------------------
def test_complete_returns_text_and_counts_tokens_when_the_model_reports_none() -> None:
    model = FakeChatModel().enqueue("Backprop applies the chain rule.")
    messages = [system("You are an interviewer."), user("What is backprop?")]
    reply = complete(model, messages)
    assert reply.text == "Backprop applies the chain rule."
    assert reply.usage.prompt == count_tokens("You are an interviewer.") + count_tokens("What is backprop?")
    assert reply.usage.completion == count_tokens("Backprop applies the chain rule.")
    assert reply.usage.cached == 0
    assert reply.model == "fake-model"
    assert model.calls[0]["messages"] == messages


def test_complete_uses_server_usage_with_cached_tokens() -> None:
    model = FakeChatModel().enqueue(reply_with_usage("ok", prompt=420, completion=2, cached=400))
    reply = complete(model, [user("hi")])
    assert (reply.usage.prompt, reply.usage.cached, reply.usage.completion) == (420, 400, 2)
    assert reply.usage.total == 422


def test_all_zero_server_usage_falls_back_to_counting() -> None:
    model = FakeChatModel().enqueue(reply_with_usage("four words right here", prompt=0, completion=0))
    reply = complete(model, [user("hi")])
    assert reply.usage.completion == count_tokens("four words right here") > 0


def test_complete_with_schema_asks_for_json_schema_and_max_tokens() -> None:
    model = FakeChatModel().enqueue({"score": 3, "reason": "ok"})
    reply = complete(model, [user("grade")], schema=Verdict, max_tokens=50)
    kwargs = model.calls[0]["kwargs"]
    assert kwargs["max_tokens"] == 50
    assert kwargs["response_format"]["type"] == "json_schema"
    assert kwargs["response_format"]["json_schema"]["name"] == "Verdict"
    assert set(kwargs["response_format"]["json_schema"]["schema"]["properties"]) == {"score", "reason"}
    assert parse_structured(reply.text, Verdict) == Verdict(score=3, reason="ok")


def test_stream_yields_pieces_and_returns_the_reply_with_usage() -> None:
    model = FakeChatModel().enqueue(reply_with_usage("Gradient descent.", prompt=30, completion=4, cached=24))
    pieces, reply = _drain(stream(model, [user("what?")], max_tokens=20))
    assert len(pieces) > 1 and "".join(pieces) == "Gradient descent."
    assert reply.text == "Gradient descent."
    assert (reply.usage.prompt, reply.usage.cached, reply.usage.completion) == (30, 24, 4)
    assert model.calls[0]["kwargs"]["max_tokens"] == 20


def test_usage_adds_up() -> None:
    assert Usage(prompt=1, cached=1, completion=2) + Usage(prompt=3, completion=4) == Usage(
        prompt=4, cached=1, completion=6
    )


def test_errors_raised_by_the_model_are_typed() -> None:
    model = FakeChatModel().enqueue(RuntimeError("socket exploded"))
    with pytest.raises(ModelError, match="socket exploded"):
        complete(model, [user("hi")])


def test_errors_while_streaming_are_typed() -> None:
    model = FakeChatModel().enqueue(_api_error(openai.AuthenticationError, 401))
    with pytest.raises(AuthenticationFailed):
        list(stream(model, [user("hi")]))


# --- parse_structured -----------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        '{"score": 2, "reason": "thin"}',
        '```json\n{"score": 2, "reason": "thin"}\n```',
        'Here you go: {"score": 2, "reason": "thin"} hope that helps',
    ],
)
def test_parse_structured_tolerates_fences_and_chatter(text: str) -> None:
    assert parse_structured(text, Verdict) == Verdict(score=2, reason="thin")


@pytest.mark.parametrize("text", ["not json at all", '{"score": "high"}', '{"reason": "no score"}', ""])
def test_parse_structured_refuses_what_does_not_fit_the_schema(text: str) -> None:
    with pytest.raises(BadModelOutput, match="not valid JSON for Verdict") as caught:
        parse_structured(text, Verdict)
    assert repr(text[:20])[1:-1] in str(caught.value)  # the raw reply is quoted for debugging


def test_token_probabilities_are_asked_for_and_returned() -> None:
    import math

    from langchain_core.messages import AIMessage

    top = [{"token": "2", "logprob": math.log(0.75)}, {"token": "1", "logprob": math.log(0.25)}]
    reply = AIMessage(content="2", response_metadata={"logprobs": {"content": [
        {"token": "2", "logprob": math.log(0.75), "top_logprobs": top}, {"token": None}]}})
    model = FakeChatModel().enqueue(reply)
    result = complete(model, [user("hi")], top_logprobs=3)
    assert model.calls[0]["kwargs"]["logprobs"] is True and model.calls[0]["kwargs"]["top_logprobs"] == 3
    assert [t.token for t in result.tokens] == ["2"]  # the malformed entry is skipped
    assert result.tokens[0].top == pytest.approx({"2": 0.75, "1": 0.25})


def test_a_model_that_refuses_logprobs_is_asked_again_without_them() -> None:
    refused = _api_error(openai.BadRequestError, 400, "logprobs are not supported with this model")
    model = FakeChatModel().enqueue(refused, "fine")
    result = complete(model, [user("hi")], top_logprobs=5)
    assert result.text == "fine" and result.tokens == []
    assert "logprobs" not in model.calls[1]["kwargs"]


def test_other_bad_requests_are_not_retried() -> None:
    model = FakeChatModel().enqueue(_api_error(openai.BadRequestError, 400, "context too long"), "never sent")
    with pytest.raises(ModelError, match="context too long"):
        complete(model, [user("hi")], top_logprobs=5)
    assert len(model.calls) == 1


# --- error mapping --------------------------------------------------------------------------
_URL = "http://127.0.0.1:9/v1/chat/completions"


def _api_error(kind: type[openai.APIStatusError], status: int, message: str = "nope") -> openai.APIStatusError:
    request = httpx2.Request("POST", _URL)
    response = httpx2.Response(status, request=request, json={"error": {"message": message}})
    return kind(message, response=response, body={"error": {"message": message}})


@pytest.mark.parametrize(
    ("error", "expected_type", "must_say"),
    [
        (_api_error(openai.AuthenticationError, 401), AuthenticationFailed, "OPENAI_API_KEY"),
        (_api_error(openai.PermissionDeniedError, 403), AuthenticationFailed, "refused the API key"),
        (_api_error(openai.RateLimitError, 429, "quota"), ModelError, "HTTP 429"),
        (_api_error(openai.InternalServerError, 503), ModelError, "HTTP 503 after retries"),
        (_api_error(openai.NotFoundError, 404, "model x not found"), ModelError, "INTERVIEWER_MODEL"),
        (_api_error(openai.BadRequestError, 400, "context too long"), ModelError, "context too long"),
        (openai.APITimeoutError(request=httpx2.Request("POST", _URL)), EndpointUnavailable, "did not answer in time"),
        (openai.APIConnectionError(request=httpx2.Request("POST", _URL)), EndpointUnavailable, "could not reach"),
        (httpx2.ReadTimeout("slow", request=httpx2.Request("POST", _URL)), EndpointUnavailable, "timed out"),
        (httpx2.RemoteProtocolError("gone", request=httpx2.Request("POST", _URL)), EndpointUnavailable, "broke off"),
        (BadModelOutput("bad json"), BadModelOutput, "bad json"),
    ],
)
def test_map_error_gives_typed_errors_that_name_the_fix(
    error: Exception, expected_type: type[Exception], must_say: str
) -> None:
    mapped = map_error(error)
    assert type(mapped) is expected_type
    assert must_say in str(mapped)
    if isinstance(error, openai.APIError | httpx2.HTTPError):
        assert "127.0.0.1:9" in str(mapped)  # the endpoint is named


# --- endpoints and model building ----------------------------------------------------------
def test_key_only_means_openai_with_the_sdk_default_url() -> None:
    settings = load_settings(openai_api_key="sk-test")
    endpoint = resolve_endpoint(settings)
    assert endpoint.kind == "openai" and endpoint.model == "gpt-4o-mini" and endpoint.has_key
    assert endpoint.base_url == str(openai.OpenAI(api_key="x").base_url).rstrip("/")
    model = build_chat_model(settings, temperature=0.3, max_tokens=64)
    assert isinstance(model, ChatOpenAI)
    assert model.openai_api_key is not None and model.openai_api_key.get_secret_value() == "sk-test"
    assert (model.temperature, model.max_tokens, model.max_retries) == (0.3, 64, settings.max_retries)
    assert model.request_timeout == settings.request_timeout and model.stream_usage is True


def test_url_with_model_means_compatible_and_needs_no_key() -> None:
    settings = load_settings(openai_base_url="http://127.0.0.1:8000/v1/", model="qwen")
    endpoint = resolve_endpoint(settings)
    assert endpoint.model_dump() == {
        "kind": "compatible", "base_url": "http://127.0.0.1:8000/v1", "model": "qwen", "has_key": False
    }
    model = build_chat_model(settings)
    assert isinstance(model, ChatOpenAI)
    assert model.openai_api_base == "http://127.0.0.1:8000/v1"
    assert model.openai_api_key is not None and model.openai_api_key.get_secret_value() == "not-needed"


def test_environment_variables_select_the_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:1234/v1")
    monkeypatch.setenv("INTERVIEWER_MODEL", "served")
    endpoint = resolve_endpoint(load_settings())
    assert (endpoint.kind, endpoint.base_url, endpoint.model) == ("compatible", "http://127.0.0.1:1234/v1", "served")


def test_no_key_no_url_means_embedded_and_describing_it_starts_nothing() -> None:
    settings = load_settings(local_model="0.5b")
    endpoint = resolve_endpoint(settings, start=False)
    assert endpoint.kind == "embedded" and endpoint.base_url == ""
    assert endpoint.model == "qwen2.5-coder-0.5b-instruct-q4_k_m"
    assert not (settings.data_dir / "model-server" / "state.json").exists()


def test_a_prebuilt_endpoint_is_used_as_given() -> None:
    settings = load_settings()  # embedded by default; the given endpoint must win, starting nothing
    endpoint = resolve_endpoint(load_settings(openai_base_url="http://127.0.0.1:5/v1", model="m"))
    model = build_chat_model(settings, endpoint=endpoint)
    assert isinstance(model, ChatOpenAI) and model.openai_api_base == "http://127.0.0.1:5/v1"
    assert not (settings.data_dir / "model-server").exists()
