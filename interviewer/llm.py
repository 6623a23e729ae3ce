"""LLM: the only module that talks to chat/embedding SDKs; builds models, calls them, counts tokens.

Everything else receives a LangChain `BaseChatModel` and calls `complete()` / `stream()` /
`parse_structured()` from here, so retries, timeouts, usage accounting and error mapping live
in one place."""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Iterator, Sequence
from typing import Any, Literal, TypeVar

import httpx
import openai
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_openai import ChatOpenAI
from pydantic import BaseModel, Field, SecretStr, ValidationError

from interviewer.config import Settings
from interviewer.errors import (
    AuthenticationFailed,
    BadModelOutput,
    EndpointUnavailable,
    InterviewerError,
    ModelError,
)
from interviewer.tokens import count_tokens

SchemaT = TypeVar("SchemaT", bound=BaseModel)


class Usage(BaseModel):
    """Token usage of one or more calls."""

    prompt: int = Field(default=0, description="Prompt tokens, including cached ones.")
    cached: int = Field(default=0, description="Prompt tokens served from the server's prefix cache.")
    completion: int = Field(default=0, description="Generated tokens.")

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            prompt=self.prompt + other.prompt,
            cached=self.cached + other.cached,
            completion=self.completion + other.completion,
        )

    @property
    def total(self) -> int:
        return self.prompt + self.completion


class TokenChoice(BaseModel):
    """One generated token with the probabilities of its most likely alternatives."""

    token: str = Field(description="The token the model produced.")
    top: dict[str, float] = Field(default_factory=dict, description="Alternative token -> probability (0..1).")


class LLMReply(BaseModel):
    """The text of one model reply with what it cost."""

    text: str = Field(description="The reply's content.")
    usage: Usage = Field(default_factory=Usage, description="Tokens; counted with tiktoken if the server gave none.")
    latency: float = Field(default=0.0, description="Seconds from request to last token.")
    model: str = Field(default="", description="Model name as reported by the model object.")
    tokens: list[TokenChoice] = Field(
        default_factory=list, description="Per-token probabilities, when asked for and the server sends them."
    )


def system(text: str) -> SystemMessage:
    return SystemMessage(content=text)


def user(text: str) -> HumanMessage:
    return HumanMessage(content=text)


def model_name(model: BaseChatModel) -> str:
    """A readable name for a model object (ChatOpenAI's `model_name`, else its class)."""
    for attr in ("model_name", "model"):
        value = getattr(model, attr, None)
        if isinstance(value, str) and value:
            return value
    return type(model).__name__


def _usage_from(message: BaseMessage, messages: Sequence[BaseMessage]) -> Usage:
    # ChatOpenAI maps the server's `prompt_tokens_details.cached_tokens` (llama.cpp and OpenAI both
    # send it) to `input_token_details.cache_read`; streams carry it when `stream_usage=True`.
    meta = getattr(message, "usage_metadata", None)
    if meta and (meta.get("input_tokens") or meta.get("output_tokens")):
        details = meta.get("input_token_details") or {}
        return Usage(
            prompt=int(meta.get("input_tokens", 0)),
            cached=int(details.get("cache_read", 0) or 0),
            completion=int(meta.get("output_tokens", 0)),
        )
    # No usage from the server (or a fake): count with tiktoken so callers can still report cost.
    prompt = sum(count_tokens(str(m.content)) for m in messages)
    return Usage(prompt=prompt, completion=count_tokens(str(message.content)))


def json_schema_format(schema: type[BaseModel]) -> dict[str, Any]:
    """The OpenAI `response_format` asking for JSON that matches `schema`."""
    return {
        "type": "json_schema",
        "json_schema": {"name": schema.__name__, "schema": schema.model_json_schema(), "strict": False},
    }


def complete(
    model: BaseChatModel,
    messages: Sequence[BaseMessage],
    *,
    schema: type[BaseModel] | None = None,
    max_tokens: int | None = None,
    top_logprobs: int = 0,
) -> LLMReply:
    """One chat call. With `schema`, the server is asked for JSON matching it (json_schema); parse
    the text with `parse_structured`. With `top_logprobs`, the reply's `tokens` carry that many
    alternatives per token (OpenAI, vLLM and llama.cpp send them; a server that does not leaves
    `tokens` empty). Errors from the SDK are mapped to the `ModelError` tree."""
    kwargs: dict[str, Any] = {}
    if schema is not None:
        kwargs["response_format"] = json_schema_format(schema)
    if max_tokens is not None:
        kwargs["max_tokens"] = max_tokens
    if top_logprobs:
        kwargs.update(logprobs=True, top_logprobs=top_logprobs)
    runnable = model.bind(**kwargs) if kwargs else model
    started = time.perf_counter()
    try:
        message = runnable.invoke(list(messages))
    except openai.BadRequestError as exc:
        if not (top_logprobs and "logprob" in str(exc).lower()):
            raise map_error(exc) from exc
        # Some models refuse logprobs (OpenAI's reasoning models): ask again without them.
        kwargs = {k: v for k, v in kwargs.items() if k not in ("logprobs", "top_logprobs")}
        try:
            message = model.bind(**kwargs).invoke(list(messages))
        except Exception as again:
            raise map_error(again) from again
    except Exception as exc:  # mapped to a typed, user-readable error
        raise map_error(exc) from exc
    text = message.content if isinstance(message.content, str) else str(message.content)
    return LLMReply(
        text=text,
        usage=_usage_from(message, messages),
        latency=time.perf_counter() - started,
        model=model_name(model),
        tokens=_token_choices(message),
    )


def _token_choices(message: BaseMessage) -> list[TokenChoice]:
    """ChatOpenAI puts the OpenAI `logprobs.content` list in `response_metadata`."""
    content = ((getattr(message, "response_metadata", None) or {}).get("logprobs") or {}).get("content") or []
    choices = []
    for entry in content:
        if not isinstance(entry, dict) or not isinstance(entry.get("token"), str):
            continue
        top = {alt["token"]: math.exp(alt["logprob"]) for alt in entry.get("top_logprobs") or []
               if isinstance(alt, dict) and isinstance(alt.get("token"), str) and isinstance(alt.get("logprob"), int | float)}
        choices.append(TokenChoice(token=entry["token"], top=top))
    return choices


def stream(model: BaseChatModel, messages: Sequence[BaseMessage], *, max_tokens: int | None = None) -> Iterator[str]:
    """Yield the reply's text as it arrives; the final `LLMReply` is the generator's return value."""
    runnable = model.bind(max_tokens=max_tokens) if max_tokens else model
    started = time.perf_counter()
    parts: list[str] = []
    last: Any = None  # an AIMessageChunk; chunks add up, usage included
    try:
        for chunk in runnable.stream(list(messages)):
            piece = chunk.content if isinstance(chunk.content, str) else ""
            if piece:
                parts.append(piece)
                yield piece
            last = chunk if last is None else last + chunk
    except Exception as exc:
        raise map_error(exc) from exc
    text = "".join(parts)
    final = AIMessage(content=text, usage_metadata=getattr(last, "usage_metadata", None))
    return LLMReply(  # type: ignore[return-value]
        text=text, usage=_usage_from(final, messages), latency=time.perf_counter() - started, model=model_name(model)
    )


_FENCE = re.compile(r"^```(?:json)?\s*|\s*```$", re.MULTILINE)


def parse_structured(text: str, schema: type[SchemaT]) -> SchemaT:
    """Parse a model's JSON reply into `schema`; tolerate code fences and text around one object.
    Raises `BadModelOutput` (with the raw text) when that is not possible."""
    candidate = _FENCE.sub("", text.strip())
    try:
        return schema.model_validate_json(candidate)
    except ValidationError as first_error:
        start, end = candidate.find("{"), candidate.rfind("}")
        if 0 <= start < end:
            try:
                return schema.model_validate(json.loads(candidate[start : end + 1]))
            except (ValueError, ValidationError):
                pass
        raise BadModelOutput(
            f"the model's reply is not valid JSON for {schema.__name__}: {first_error.errors()[:3]}; "
            f"reply began {text[:200]!r}"
        ) from first_error


# --- endpoints and chat models ----------------------------------------------------------------
OPENAI_DEFAULT_MODEL = "gpt-4o-mini"
NO_KEY = "not-needed"  # the SDK insists on a key; local servers ignore it


class Endpoint(BaseModel):
    """Which OpenAI-compatible endpoint the chat models talk to (for `doctor` and the UI)."""

    kind: Literal["embedded", "openai", "compatible"] = Field(
        description="embedded: this app's llama.cpp server; openai: OpenAI itself (a key, no URL); "
        "compatible: any other server at OPENAI_BASE_URL (vLLM, llama.cpp, Ollama, LM Studio)."
    )
    base_url: str = Field(description="Base URL requests go to, ending in /v1 for most servers.")
    model: str = Field(description="Model name sent with every request.")
    has_key: bool = Field(default=False, description="Whether an API key is sent.")
    local_key: SecretStr | None = Field(
        default=None, exclude=True, description="The embedded server's per-run key (never printed)."
    )


def _openai_default_url() -> str:
    # Ask the SDK instead of writing OpenAI's address into our code (it may be overridden by env).
    return str(openai.OpenAI(api_key=NO_KEY).base_url).rstrip("/")


def resolve_endpoint(settings: Settings, *, start: bool = True) -> Endpoint:
    """The endpoint the settings select. With neither key nor URL it is the embedded server,
    which is started (or reused) here unless `start=False` (then `base_url` may be empty)."""
    if settings.uses_embedded_model:
        from interviewer import local_model

        state = local_model.ensure_server(settings) if start else local_model.running_server(settings)
        name = state.model_name if state else local_model.wanted_model_path(settings).stem
        return Endpoint(
            kind="embedded",
            base_url=state.base_url if state else "",
            model=name,
            has_key=state is not None,
            local_key=SecretStr(state.api_key) if state else None,
        )
    if settings.openai_base_url:
        return Endpoint(
            kind="compatible",
            base_url=settings.openai_base_url.rstrip("/"),
            model=settings.model or _served_model(settings) or "",
            has_key=bool(settings.openai_api_key),
        )
    return Endpoint(
        kind="openai",
        base_url=_openai_default_url(),
        model=settings.model or OPENAI_DEFAULT_MODEL,
        has_key=True,
    )


_served_models: dict[str, str] = {}  # base URL -> first listed model; failures are not remembered


def _served_model(settings: Settings) -> str | None:
    """First model a compatible server lists, for when INTERVIEWER_MODEL is unset. None when the
    server cannot say; requests then fail with a message that names INTERVIEWER_MODEL."""
    url = settings.openai_base_url or ""
    if url in _served_models:
        return _served_models[url]
    client = openai.OpenAI(base_url=url, api_key=settings.openai_api_key or NO_KEY, timeout=5.0, max_retries=0)
    try:
        listed = next((model.id for model in client.models.list()), None)
    except openai.OpenAIError:
        return None
    if listed:
        _served_models[url] = listed
    return listed


def build_chat_model(
    settings: Settings,
    *,
    temperature: float = 0.0,
    max_tokens: int | None = None,
    endpoint: Endpoint | None = None,
) -> BaseChatModel:
    """The one place chat models are made: timeout, bounded retries with backoff on 429 / 5xx /
    connection errors (the openai SDK's own, honouring Retry-After), and usage on streams."""
    endpoint = endpoint or resolve_endpoint(settings)
    if not endpoint.model:
        raise ModelError(
            f"no model name for the endpoint at {endpoint.base_url}: INTERVIEWER_MODEL is unset and the "
            "server did not list its models (unreachable, or no /models route); check the URL and set "
            "INTERVIEWER_MODEL to a model it serves"
        )
    if endpoint.kind == "embedded":
        key = endpoint.local_key.get_secret_value() if endpoint.local_key else NO_KEY
    else:
        key = settings.openai_api_key or NO_KEY
    return ChatOpenAI(
        model=endpoint.model,
        base_url=endpoint.base_url,
        api_key=key,  # type: ignore[arg-type]
        temperature=temperature,
        max_tokens=max_tokens,  # type: ignore[call-arg]
        timeout=settings.request_timeout,
        max_retries=settings.max_retries,
        stream_usage=True,
    )


class EndpointCheck(BaseModel):
    """Whether the configured endpoint answers a tiny chat request (what `interviewer doctor` shows)."""

    endpoint: Endpoint | None = Field(description="The endpoint; None if it could not even be set up.")
    answers: bool = Field(description="True when a chat request came back.")
    round_trip: float | None = Field(default=None, description="Seconds for that request, if it answered.")
    reply: str = Field(default="", description="The start of the model's reply.")
    usage: Usage | None = Field(default=None, description="Tokens of the check request.")
    error: str = Field(default="", description="What went wrong, with the fix, when it did not answer.")
    error_type: str = Field(default="", description="Class of the error (errors.py), when there was one.")


def check_endpoint(settings: Settings) -> EndpointCheck:
    """Set up the endpoint the settings select (starting the embedded server if that is the one)
    and time one short chat request. Never raises for a model problem: it is reported instead."""
    endpoint: Endpoint | None = None
    try:
        endpoint = resolve_endpoint(settings)
        model = build_chat_model(settings, endpoint=endpoint, max_tokens=8)
        reply = complete(model, [user("Reply with the single word OK.")])
    except InterviewerError as exc:
        return EndpointCheck(endpoint=endpoint, answers=False, error=str(exc), error_type=type(exc).__name__)
    return EndpointCheck(
        endpoint=endpoint, answers=True, round_trip=reply.latency, reply=reply.text[:80], usage=reply.usage
    )


def _url_of(exc: openai.APIError) -> str:
    request = getattr(exc, "request", None)
    return str(request.url) if request is not None else "the endpoint"


def _detail(exc: openai.APIError) -> str:
    """The server's own explanation: OpenAI-style bodies nest it under "error"."""
    body = exc.body
    if isinstance(body, dict):
        inner = body.get("error")
        message = inner.get("message") if isinstance(inner, dict) else body.get("message")
        if message:
            return str(message)[:300]
    return str(exc.message)[:300]


def map_error(exc: Exception) -> Exception:
    """Turn an SDK/transport exception into the project's error tree (see errors.py), with a
    message that names the cause and the fix. Retries have already happened in the SDK."""
    if isinstance(exc, InterviewerError):
        return exc
    if isinstance(exc, openai.APITimeoutError):
        return EndpointUnavailable(
            f"the model at {_url_of(exc)} did not answer in time (after retries); it may be overloaded "
            "or stalled: try again, raise INTERVIEWER_REQUEST_TIMEOUT, or check the server"
        )
    if isinstance(exc, openai.APIConnectionError):
        cause = _transport_cause(exc)
        if cause is not None and not isinstance(cause, _CONNECT_ERRORS):
            return EndpointUnavailable(
                f"the connection to the model at {_url_of(exc)} broke off mid-reply ({type(cause).__name__}: "
                f"{cause}); the server may have crashed or restarted: try again, and check its log"
            )
        return EndpointUnavailable(
            f"could not reach the model at {_url_of(exc)} ({type(cause).__name__ if cause else exc.message}); "
            "check that the server is running and OPENAI_BASE_URL is right, or unset OPENAI_BASE_URL "
            "and OPENAI_API_KEY to use the embedded model"
        )
    if isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
        return AuthenticationFailed(
            f"the endpoint at {_url_of(exc)} refused the API key (HTTP {exc.status_code}: {_detail(exc)}); "
            "check OPENAI_API_KEY"
        )
    if isinstance(exc, openai.LengthFinishReasonError):
        return BadModelOutput("the model's reply was cut at the token limit before it was complete")
    if isinstance(exc, openai.RateLimitError):
        return ModelError(
            f"the endpoint at {_url_of(exc)} kept rate-limiting (HTTP 429) after retries: {_detail(exc)}; "
            "wait a minute, lower concurrency, or check the account's quota"
        )
    if isinstance(exc, openai.NotFoundError):
        return ModelError(
            f"the endpoint at {_url_of(exc)} answered 404 ({_detail(exc)}); check that INTERVIEWER_MODEL "
            "names a model it serves and that OPENAI_BASE_URL ends in /v1 where the server expects it"
        )
    if isinstance(exc, openai.InternalServerError):
        return ModelError(
            f"the model server at {_url_of(exc)} failed with HTTP {exc.status_code} after retries: "
            f"{_detail(exc)}; check the server's log, or try again"
        )
    if isinstance(exc, openai.APIStatusError):
        return ModelError(
            f"the endpoint at {_url_of(exc)} rejected the request (HTTP {exc.status_code}): {_detail(exc)}"
        )
    if isinstance(exc, openai.APIResponseValidationError | json.JSONDecodeError) or _is_foreign_reply(exc):
        return ModelError(
            f"the endpoint answered with something that is not an OpenAI chat response ({str(exc)[:200]}); "
            "check that OPENAI_BASE_URL points at an OpenAI-compatible API root (usually ending in /v1)"
        )
    if isinstance(exc, _TRANSPORT_ERRORS):  # raised while reading a stream: the SDK cannot retry those
        where = _transport_url(exc)
        if isinstance(exc, _TIMEOUT_ERRORS):
            return EndpointUnavailable(
                f"the model{where} stopped sending mid-reply and timed out; it may be overloaded or "
                "stalled: try again, raise INTERVIEWER_REQUEST_TIMEOUT, or check the server"
            )
        return EndpointUnavailable(
            f"the connection to the model{where} broke off mid-reply ({type(exc).__name__}: {exc}); "
            "the server may have crashed or restarted: try again, and check its log"
        )
    return ModelError(f"the chat model failed: {type(exc).__name__}: {exc}")


def _is_foreign_reply(exc: Exception) -> bool:
    """langchain-openai's own complaint about a 200 reply that is not a chat completion (e.g. an
    HTML page, or JSON without `choices`); it has no exception type of its own."""
    text = str(exc)
    return isinstance(exc, ValueError | KeyError | TypeError) and (
        "Unexpected response type" in text or "choices" in text
    )


# The openai SDK talks HTTP through `httpx2` (older releases: `httpx`); a stream that breaks after
# its first bytes surfaces their exceptions unwrapped.
_TRANSPORT_ERRORS: tuple[type[Exception], ...] = (httpx.TransportError,)
_TIMEOUT_ERRORS: tuple[type[Exception], ...] = (httpx.TimeoutException,)
_CONNECT_ERRORS: tuple[type[Exception], ...] = (httpx.ConnectError, OSError)
try:
    import httpx2

    _TRANSPORT_ERRORS += (httpx2.TransportError,)
    _TIMEOUT_ERRORS += (httpx2.TimeoutException,)
    _CONNECT_ERRORS += (httpx2.ConnectError,)
except ImportError:  # pragma: no cover - depends on the installed SDK
    pass


def _transport_cause(exc: BaseException) -> BaseException | None:
    """The HTTP-level exception under an SDK connection error (the SDK may wrap it twice)."""
    seen: BaseException | None = exc.__cause__ or exc.__context__
    while seen is not None and isinstance(seen, openai.APIConnectionError):
        seen = seen.__cause__ or seen.__context__
    return seen


def _transport_url(exc: Exception) -> str:
    try:
        return f" at {exc.request.url}"  # type: ignore[attr-defined]
    except (AttributeError, RuntimeError):  # httpx raises RuntimeError when no request is attached
        return ""
