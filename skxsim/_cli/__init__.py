"""The ``skxsim`` command line (``python -m skxsim``)."""

from ._main import main
from ._parser import build_parser

__all__ = ["build_parser", "main"]
