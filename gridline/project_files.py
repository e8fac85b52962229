"""Where the dbt project is: inside the package in an installed wheel, beside it in a source checkout.

The wheel ships ``dbt_project`` as ``gridline/dbt_project`` (pyproject.toml); an editable install or a
checkout keeps it at the repository's top. Everything that reads the project asks here.
"""

from __future__ import annotations

from pathlib import Path

from gridline.errors import GridlineError

_PACKAGE = Path(__file__).resolve().parent
_CANDIDATES = (_PACKAGE / "dbt_project", _PACKAGE.parent / "dbt_project")

DBT_PROJECT_DIR = next((p for p in _CANDIDATES if (p / "dbt_project.yml").is_file()), _CANDIDATES[-1])


def require_dbt_project() -> Path:
    """The project's folder, or one line saying where it was looked for."""
    if not (DBT_PROJECT_DIR / "dbt_project.yml").is_file():
        looked = " or ".join(str(p) for p in _CANDIDATES)
        raise GridlineError(f"no dbt project at {looked}: install the gridline wheel or run from a checkout")
    return DBT_PROJECT_DIR
