"""interviewer: an AI mock interviewer for deep-learning / ML job interviews."""

__version__ = "0.1.0"

__all__ = ["__version__"]
