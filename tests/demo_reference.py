"""The generated demo city's reference files in the generic form, for tests and ``make demo``.

``gridline generate`` writes ``<out>/reference/{areas,categories,activities}.csv`` for the city it
generated; for a landing folder without them they are written here by the same generator code, for the
default city.
"""

from __future__ import annotations

from pathlib import Path

from gridline.reference import KINDS
from ingestion.generate import reference
from ingestion.generate.world import make_world


def reference_paths(landing: Path) -> dict[str, Path]:
    """The generated city's reference file of every kind, written beside its landing files if missing."""
    folder = landing / reference.FOLDER
    paths = {kind: folder / f"{kind}.csv" for kind in KINDS}
    if not all(path.exists() for path in paths.values()):
        reference.write(folder, make_world("default", seed=0))  # the default city ignores the seed
    return paths


def import_demo_reference(landing: Path, home: Path) -> None:
    """Load the generated city's reference into ``home`` as a deployment does: `gridline reference import`."""
    from tests.conftest import gridline_cli

    for kind, path in reference_paths(landing).items():
        gridline_cli("reference", "import", kind, str(path), env_home=home)


if __name__ == "__main__":
    import sys

    for written in reference_paths(Path(sys.argv[1])).values():
        print(written)
