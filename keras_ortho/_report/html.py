"""The HTML page of a `keras-ortho report`: what the page shows (`Page`) and
its rendering as a self-contained HTML document."""

import dataclasses
import html
import re

# A rounded number as the report writes it.
_NUMBER = re.compile(r"[-+]?[\d,]*\.?\d+(e[-+]?\d+)?")


@dataclasses.dataclass(frozen=True)
class Link:
    """A table cell or navigation entry that links to `href`."""

    text: str
    href: str


@dataclasses.dataclass(frozen=True)
class Table:
    """A titled table: `rows` are dicts `{column heading: cell}`, each cell a
    string (already rounded for reading) or a `Link`."""

    title: str
    rows: list
    caption: str = ""


@dataclasses.dataclass(frozen=True)
class Figure:
    """A PNG file of the page's directory, with its heading and caption."""

    file_name: str
    title: str
    caption: str = ""


@dataclasses.dataclass
class Page:
    """What the HTML page shows, in order: navigation links, the summary,
    notes on what is missing, the tables, the figures."""

    title: str
    summary: list = dataclasses.field(default_factory=list)
    links: list = dataclasses.field(default_factory=list)
    notes: list = dataclasses.field(default_factory=list)
    tables: list = dataclasses.field(default_factory=list)
    figures: list = dataclasses.field(default_factory=list)


_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1100px;"
    "padding:0 1em;color:#222}"
    "h1{margin-bottom:0.2em}h2{margin-top:1.6em;font-size:1.25em}"
    "nav{margin-bottom:1em}.summary{color:#555;margin-top:0}"
    ".notes{background:#fff8e1;border-left:4px solid #f0b400;"
    "padding:0.4em 1em}.notes h2{margin-top:0.4em}"
    "table{border-collapse:collapse;margin:0.5em 0 0.5em}"
    "td,th{border:1px solid #ddd;padding:0.25em 0.7em;text-align:right}"
    "td.text,th.text{text-align:left}"
    "th{background:#f3f3f3;font-weight:600}tr:nth-child(even) td{background:#fafafa}"
    ".caption{color:#555;font-size:0.9em;margin:0.2em 0 1em}"
    "figure{margin:0}img{max-width:100%}.table{overflow-x:auto}"
)


def render_html(page):
    """The page as one HTML document, styles inline and figures by file name."""
    escape = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{escape(page.title)}</title>",
        f"<style>{_STYLE}</style>",
        "</head><body>",
    ]
    if page.links:
        parts.append(
            "<nav>" + " · ".join(_cell_html(link) for link in page.links) + "</nav>"
        )
    parts.append(f"<h1>{escape(page.title)}</h1>")
    parts += [f'<p class="summary">{escape(line)}</p>' for line in page.summary]
    if page.notes:
        parts.append('<div class="notes"><h2>Notes</h2><ul>')
        parts += [f"<li>{escape(note)}</li>" for note in page.notes]
        parts.append("</ul></div>")
    for table in page.tables:
        parts.append(f"<h2>{escape(table.title)}</h2>")
        parts.append(_html_table(table.rows))
        if table.caption:
            parts.append(f'<p class="caption">{escape(table.caption)}</p>')
    for figure in page.figures:
        parts.append(
            f"<figure><h2>{escape(figure.title)}</h2>"
            f'<img src="{escape(figure.file_name)}" alt="{escape(figure.title)}">'
        )
        if figure.caption:
            parts.append(
                f'<figcaption class="caption">{escape(figure.caption)}</figcaption>'
            )
        parts.append("</figure>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _html_table(rows):
    if not rows:
        return "<p>(empty)</p>"
    columns = list(dict.fromkeys(key for row in rows for key in row))
    # A heading aligns as its column: left over text, right over numbers.
    text_columns = {
        c for c in columns if not any(_is_number(row.get(c)) for row in rows)
    }
    head = "".join(
        f'<th class="text">{html.escape(str(c))}</th>'
        if c in text_columns
        else f"<th>{html.escape(str(c))}</th>"
        for c in columns
    )
    body = "".join(
        "<tr>" + "".join(_td(row.get(c, "-")) for c in columns) + "</tr>"
        for row in rows
    )
    return f'<div class="table"><table><tr>{head}</tr>{body}</table></div>'


def _td(cell):
    """A table cell: numbers right-aligned (the default), text left-aligned."""
    if _is_number(cell):
        return f"<td>{_cell_html(cell)}</td>"
    return f'<td class="text">{_cell_html(cell)}</td>'


def _is_number(cell):
    return isinstance(cell, str) and _NUMBER.fullmatch(cell) is not None


def _cell_html(cell):
    if isinstance(cell, Link):
        return f'<a href="{html.escape(cell.href)}">{html.escape(cell.text)}</a>'
    return html.escape(str(cell))
