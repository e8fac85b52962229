"""Make the rendered Data Docs self-contained: styled and usable with no network.

Great Expectations' pages link Bootstrap, Font Awesome, jQuery, bootstrap-table and vega from public
CDNs, and the pip package ships none of them. Offline (as gridline runs) the pages would come up bare
and the index's tables empty, since bootstrap-table fills them in the browser. So after each build every
page that is new or re-rendered is rewritten:

- every ``<link>``/``<script>`` to an http(s) address is removed, other absolute links and CSS
  ``url()``s are disarmed;
- gridline's own small stylesheet and script (``expectations/static/``) are linked instead: the
  Bootstrap classes the pages use, text glyphs for the icons, tabs, collapsible panels, a tiny ``$``;
- each bootstrap-table is rendered to a plain HTML table from the rows embedded in the page.

A processed page carries a marker, so pages from earlier runs are not rewritten again.
"""

from __future__ import annotations

import ast
import html
import os
import re
import shutil
from pathlib import Path

STATIC_DIR = Path(__file__).resolve().parent / "static"
MARKER = '<meta name="gridline-offline" content="1">'
ASSETS = {"gridline-docs.css": "styles", "gridline-docs.js": "scripts"}

_REMOTE_LINK = re.compile(r"<link\b[^>]*\bhref=[\"']https?://[^>]*>\s*", re.IGNORECASE)
_REMOTE_SCRIPT = re.compile(r"<script\b[^>]*\bsrc=[\"']https?://[^>]*>\s*</script>\s*", re.IGNORECASE)
_REMOTE_ATTR = re.compile(r"\b(href|src|action)=([\"'])https?://[^\"']*\2", re.IGNORECASE)
_REMOTE_LOGO = re.compile(r"src=([\"'])https?://[^\"']*logo[^\"']*\1", re.IGNORECASE)
_REMOTE_CSS_URL = re.compile(r"url\(\s*[\"']?https?://[^)]*\)", re.IGNORECASE)
_TABLE_INIT = re.compile(
    r"<script>\s*\$\('#(?P<id>[\w-]+)'\)\.bootstrapTable\(\s*Object\.assign\(\s*\{\s*"
    r"columns:\s*(?P<columns>\[.*?\]),\s*data:\s*(?P<data>\[.*?\]),\s*(?:toolbar:[^\n]*\n)?\s*\},"
    r".*?</script>",
    re.DOTALL,
)


def _static_table(columns: list[dict], rows: list[dict], table_id: str) -> str:
    """A plain table with the same cells bootstrap-table would draw; rows link like GX's clickable rows."""
    head = "".join(f"<th>{html.escape(str(c.get('title', c['field'])))}</th>" for c in columns)
    body = []
    for row in rows:
        link = row.get("_table_row_link_path")
        attrs = f' class="clickable-row" data-href="{html.escape(link)}"' if link else ""
        # the cells are HTML fragments GX rendered (icons, links): inserted as they are
        cells = "".join(f"<td>{row.get(c['field'], '')}</td>" for c in columns)
        body.append(f"<tr{attrs}>{cells}</tr>")
    return (
        f'<table id="{table_id}" class="gridline-table"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def _render_tables(page: str) -> str:
    for match in list(_TABLE_INIT.finditer(page)):
        table_id = match.group("id")
        try:
            columns = ast.literal_eval(match.group("columns"))
            rows = ast.literal_eval(match.group("data"))
        except (ValueError, SyntaxError):
            continue  # leave a table we cannot read as it was; the page still renders
        placeholder = re.compile(rf"<table\s+id=\"{re.escape(table_id)}\".*?</table>", re.DOTALL)
        rendered = _static_table(columns, rows, table_id)
        page = placeholder.sub(lambda _, html_table=rendered: html_table, page, count=1)
        page = page.replace(match.group(0), "")
    return page


def offline_page(page: str, site_prefix: str) -> str:
    """One page rewritten to depend on nothing outside the site; ``site_prefix`` leads to the site root."""
    if MARKER in page:
        return page
    page = _render_tables(page)
    page = _REMOTE_LINK.sub("", page)
    page = _REMOTE_SCRIPT.sub("", page)
    page = _REMOTE_LOGO.sub(f'src="{site_prefix}static/images/logo-long.png"', page)  # GX ships this one
    page = _REMOTE_ATTR.sub(lambda m: f'{m.group(1)}="#"', page)
    page = _REMOTE_CSS_URL.sub("none", page)
    local = (
        f"{MARKER}\n"
        f'<link rel="stylesheet" href="{site_prefix}static/styles/gridline-docs.css">\n'
        f'<script src="{site_prefix}static/scripts/gridline-docs.js"></script>\n'
    )
    return page.replace("</head>", local + "</head>", 1)


def make_offline(site_dir: Path) -> int:
    """Rewrite every not-yet-processed page under ``site_dir``; returns how many were rewritten."""
    for name, folder in ASSETS.items():
        (site_dir / "static" / folder).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(STATIC_DIR / name, site_dir / "static" / folder / name)
    rewritten = 0
    for path in site_dir.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        if MARKER in text:
            continue
        depth = len(path.relative_to(site_dir).parts) - 1
        path.write_text(offline_page(text, "../" * depth), encoding="utf-8")
        rewritten += 1
    return rewritten


def remote_references(site_dir: Path) -> dict[str, list[str]]:
    """Every http(s) address a page would fetch or link to, by page (empty when the site is offline)."""
    found: dict[str, list[str]] = {}
    for path in site_dir.rglob("*.html"):
        urls = re.findall(
            r"(?:href=|src=|url\()\s*[\"']?(https?://[^\"')]+)",
            path.read_text(encoding="utf-8"),
            re.IGNORECASE,
        )
        if urls:
            found[os.fspath(path.relative_to(site_dir))] = urls
    return found
