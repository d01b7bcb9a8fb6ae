"""HTML from the Jinja2 templates next to this module, and PDF through WeasyPrint."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from fundtrail.errors import FundtrailError

TEMPLATES = Path(__file__).resolve().parent / "templates"


@lru_cache(maxsize=1)
def _env() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),  # victims' text is escaped, always
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_html(template: str, **context: Any) -> str:
    css = (TEMPLATES / "style.css").read_text()
    return _env().get_template(template).render(css=css, **context)


def write_pdf(html: str, path: Path) -> None:
    """Render ``html`` to ``path`` (WeasyPrint needs Debian's libpango)."""
    try:
        from weasyprint import HTML
    except OSError as exc:  # the library loads pango at import time
        raise FundtrailError(
            f"WeasyPrint cannot load its system libraries ({exc}); install libpango-1.0-0"
        ) from exc
    HTML(string=html, base_url=str(path.parent)).write_pdf(str(path))
