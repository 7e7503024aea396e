"""Minga's version, as the installed package says it (pyproject.toml's `version`)."""

from importlib.metadata import PackageNotFoundError, version

PACKAGE = "minga"


def minga_version() -> str:
    """The installed version; "unknown" when run from a copy that was never installed."""
    try:
        return version(PACKAGE)
    except PackageNotFoundError:
        return "unknown"
