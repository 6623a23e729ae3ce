"""Scripted fakes for unit tests: a chat model that replays queued replies and records its calls."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import ConfigDict, Field


class FakeChatModel(BaseChatModel):
    """A queue of replies (str, dict -> JSON, AIMessage, or an Exception to raise), plus `calls`:
    the messages and kwargs of every call, so tests can assert on prompts too."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    replies: deque[Any] = Field(default_factory=deque)
    calls: list[dict[str, Any]] = Field(default_factory=list)
    default: Any = None
    model_name: str = "fake-model"

    def enqueue(self, *replies: Any) -> FakeChatModel:
        self.replies.extend(replies)
        return self

    @property
    def _llm_type(self) -> str:
        return "fake-chat"

    def _next_message(self, messages: list[BaseMessage], kwargs: dict[str, Any]) -> AIMessage:
        import json

        self.calls.append({"messages": list(messages), "kwargs": dict(kwargs)})
        if self.replies:
            reply = self.replies.popleft()
        elif self.default is not None:
            reply = self.default
        else:
            raise AssertionError("FakeChatModel: no reply queued for this call")
        if callable(reply) and not isinstance(reply, type):
            reply = reply(messages, kwargs)
        if isinstance(reply, BaseException):
            raise reply
        if isinstance(reply, AIMessage):
            return reply
        if isinstance(reply, dict | list):
            reply = json.dumps(reply, ensure_ascii=False)
        return AIMessage(content=str(reply))

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=self._next_message(messages, kwargs))])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        message = self._next_message(messages, kwargs)
        text = str(message.content)
        for i in range(0, len(text), 4):
            yield ChatGenerationChunk(message=AIMessageChunk(content=text[i : i + 4]))
        if message.usage_metadata:  # like ChatOpenAI with stream_usage: usage rides on a last, empty chunk
            yield ChatGenerationChunk(message=AIMessageChunk(content="", usage_metadata=message.usage_metadata))


def reply_with_usage(text: str, *, prompt: int, completion: int, cached: int = 0) -> AIMessage:
    """A queued reply that carries server-style usage (as ChatOpenAI reports it), for usage tests."""
    return AIMessage(
        content=text,
        usage_metadata={
            "input_tokens": prompt,
            "output_tokens": completion,
            "total_tokens": prompt + completion,
            "input_token_details": {"cache_read": cached},
        },
    )
