"""The quarterly review for coordination staff: one self-contained HTML file built from the published marts.

``marts`` loads what the review shows, ``priority`` ranks tickets by a formula printed in the report,
``charts`` draws inline SVG, ``render`` fills the Jinja2 template, ``build`` writes the file.
"""

from gridline.report.build import build_report

__all__ = ["build_report"]
