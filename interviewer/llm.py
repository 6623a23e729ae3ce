"""LLM: the only module that talks to chat/embedding SDKs; builds models, calls them, counts tokens.

Everything else receives a LangChain `BaseChatModel` and calls `complete()` / `stream()` /
`parse_structured()` from here, so retries, timeouts, usage accounting and error mapping live
in one place."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from pydantic import BaseModel, Field, ValidationError

from interviewer.errors import BadModelOutput
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


class LLMReply(BaseModel):
    """The text of one model reply with what it cost."""

    text: str = Field(description="The reply's content.")
    usage: Usage = Field(default_factory=Usage, description="Tokens; counted with tiktoken if the server gave none.")
    latency: float = Field(default=0.0, description="Seconds from request to last token.")
    model: str = Field(default="", description="Model name as reported by the model object.")


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
    meta = getattr(message, "usage_metadata", None)
    if meta:
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
) -> LLMReply:
    """One chat call. With `schema`, the server is asked for JSON matching it (json_schema); parse
    the text with `parse_structured`. Errors from the SDK are mapped to the `ModelError` tree."""
    kwargs: dict[str, Any] = {}
    if schema is not None:
        kwargs["response_format"] = json_schema_format(schema)
    if max_tokens is not None:
        kwargs["max_tokens"] = max_tokens
    runnable = model.bind(**kwargs) if kwargs else model
    started = time.perf_counter()
    try:
        message = runnable.invoke(list(messages))
    except Exception as exc:  # mapped to a typed, user-readable error
        raise map_error(exc) from exc
    text = message.content if isinstance(message.content, str) else str(message.content)
    return LLMReply(
        text=text,
        usage=_usage_from(message, messages),
        latency=time.perf_counter() - started,
        model=model_name(model),
    )


def stream(model: BaseChatModel, messages: Sequence[BaseMessage], *, max_tokens: int | None = None) -> Iterator[str]:
    """Yield the reply's text as it arrives; the final `LLMReply` is the generator's return value."""
    runnable = model.bind(max_tokens=max_tokens) if max_tokens else model
    started = time.perf_counter()
    parts: list[str] = []
    last: BaseMessage | None = None
    try:
        for chunk in runnable.stream(list(messages)):
            piece = chunk.content if isinstance(chunk.content, str) else ""
            if piece:
                parts.append(piece)
                yield piece
            last = chunk if last is None else last + chunk  # type: ignore[operator]
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


def map_error(exc: Exception) -> Exception:
    """Turn an SDK/transport exception into the project's error tree (see errors.py)."""
    from interviewer.errors import ModelError

    if isinstance(exc, ModelError):
        return exc
    return ModelError(f"the chat model failed: {type(exc).__name__}: {exc}")
