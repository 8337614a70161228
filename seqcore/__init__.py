"""Sequence Playground's engine: experiments, data, Keras models, training and figures, without the app."""

_DISTRIBUTION = "sequence-playground"


def __getattr__(name: str):
    # __version__ is looked up on first use, not at import: importlib.metadata alone takes about 25 ms, and the
    # app's first page and every training worker import this package.
    if name == "__version__":
        global __version__
        __version__ = _version()
        return __version__
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _version() -> str:
    """The installed distribution's version; in a checkout that is not installed, the one pyproject.toml gives."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(_DISTRIBUTION)
    except PackageNotFoundError:
        pass
    import tomllib
    from pathlib import Path

    try:
        with open(Path(__file__).resolve().parent.parent / "pyproject.toml", "rb") as file:
            return tomllib.load(file)["project"]["version"]
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "0+unknown"
