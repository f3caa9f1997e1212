"""Versions of installed packages, as rows and run manifests record them."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version


def package_versions(names: tuple[str, ...], missing: str | None = None) -> dict[str, str]:
    """``{name: version}`` for each distribution in ``names``; one that is not installed gets ``missing``
    (left out when ``missing`` is None)."""
    out = {}
    for name in names:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            if missing is not None:
                out[name] = missing
    return out
