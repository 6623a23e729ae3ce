"""Errors: the small tree every user-facing failure belongs to, each message saying what to do."""

from __future__ import annotations


class InterviewerError(Exception):
    """Base class: something went wrong that the user can understand and act on."""


class ConfigError(InterviewerError):
    """A setting is missing or invalid; the message names the variable and the fix."""


class IngestError(InterviewerError):
    """A file could not be ingested (unreadable, binary, empty, too large, undecodable)."""


class StoreError(InterviewerError):
    """The vector store could not be opened, read or written (embedded or server)."""


class ModelError(InterviewerError):
    """A chat or embedding model failed: unreachable, refused, timed out or answered nonsense."""


class ModelFileError(ModelError):
    """The embedded model's GGUF file is missing, incomplete or fails its checksum."""


class EndpointUnavailable(ModelError):
    """The endpoint could not be reached or did not answer in time."""


class AuthenticationFailed(ModelError):
    """The endpoint refused the API key (HTTP 401/403)."""


class BadModelOutput(ModelError):
    """The model's reply could not be parsed into the expected structure."""


class BankError(InterviewerError):
    """A question-bank file does not match the schema."""


class DatasetError(InterviewerError):
    """A grading dataset file is missing or unusable as a whole."""


class SessionError(InterviewerError):
    """An interview session could not be found, resumed or saved."""


class PromptError(InterviewerError):
    """A prompt template is missing or was rendered without one of its variables."""
