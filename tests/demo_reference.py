"""The generated demo city's reference files in the generic form, for tests and ``make demo``.

``gridline generate`` writes ``<out>/reference/{areas,categories}.csv`` for the city it generated; for a
landing folder without them they are written here by the same generator code, for the default city.
"""

from __future__ import annotations

from pathlib import Path

from ingestion.generate import reference
from ingestion.generate.world import make_world


def reference_files(landing: Path) -> tuple[Path, Path]:
    """The generated city's areas and categories files, written beside its landing files if missing."""
    folder = landing / reference.FOLDER
    areas_file, categories_file = folder / "areas.csv", folder / "categories.csv"
    if not (areas_file.exists() and categories_file.exists()):
        reference.write(folder, make_world("default", seed=0))  # the default city ignores the seed
    return areas_file, categories_file


def import_demo_reference(landing: Path, home: Path) -> None:
    """Load the generated city's reference into ``home`` as a deployment does: `gridline reference import`."""
    from tests.conftest import gridline_cli

    areas, categories = reference_files(landing)
    gridline_cli("reference", "import", "areas", str(areas), env_home=home)
    gridline_cli("reference", "import", "categories", str(categories), env_home=home)


if __name__ == "__main__":
    import sys

    for written in reference_files(Path(sys.argv[1])):
        print(written)
