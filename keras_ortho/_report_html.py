"""The HTML page of a `keras-ortho report`: what the page shows (`Page`) and
its rendering as a self-contained HTML document."""

import dataclasses
import html


@dataclasses.dataclass
class Page:
    """What the HTML page shows, in order."""

    title: str
    tables: list = dataclasses.field(default_factory=list)
    figures: list = dataclasses.field(default_factory=list)
    notes: list = dataclasses.field(default_factory=list)
    links: list = dataclasses.field(default_factory=list)


def render_html(page):
    """The page as one HTML document, styles inline and figures by file name."""
    escape = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{escape(page.title)}</title>",
        "<style>body{font-family:sans-serif;margin:2em;max-width:1200px}"
        "table{border-collapse:collapse;margin-bottom:1.5em}"
        "td,th{border:1px solid #ccc;padding:0.2em 0.6em;text-align:right}"
        "th{background:#f0f0f0}img{max-width:100%}</style>",
        "</head><body>",
        f"<h1>{escape(page.title)}</h1>",
    ]
    for title, rows in page.tables:
        parts.append(f"<h2>{escape(title)}</h2>")
        parts.append(_html_table(rows))
    if page.links:
        parts.append("<h2>Runs</h2><ul>")
        parts += [
            f'<li><a href="{escape(href)}">{escape(name)}</a></li>'
            for name, href in page.links
        ]
        parts.append("</ul>")
    for name, caption in page.figures:
        parts.append(
            f"<figure><h2>{escape(caption)}</h2>"
            f'<img src="{escape(name)}" alt="{escape(caption)}"></figure>'
        )
    if page.notes:
        parts.append("<h2>Notes</h2><ul>")
        parts += [f"<li>{escape(note)}</li>" for note in page.notes]
        parts.append("</ul>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _html_table(rows):
    if not rows:
        return "<p>(empty)</p>"
    columns = list(dict.fromkeys(key for row in rows for key in row))
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in columns)
    body = "".join(
        "<tr>"
        + "".join(f"<td>{html.escape(_format(row.get(c, '')))}</td>" for c in columns)
        + "</tr>"
        for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _format(value):
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)
