"""Figures as inline `<svg>` elements: no prologue, namespace, metadata or clashing ids."""

import html
import io
import re

import matplotlib
from matplotlib.figure import Figure

_ROOT_SIZE = re.compile(r'<svg([^>]*?) width="[^"]*" height="[^"]*"')
_NAMESPACE = re.compile(r'\s+xmlns(?::\w+)?="[^"]*"')
_ID_REF = re.compile(r'(id="|href="#|url\(#)([^")]+)')


def figure_svg(fig: Figure, name: str, description: str) -> str:
    """A figure as an `<svg>` element for an HTML page: no XML prologue, namespace or metadata.

    Those carry http:// addresses and are not needed inline; ids get the figure's prefix so that
    several plots on one page never point at each other's clip paths.
    """
    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": name}):
        fig.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    text = text[text.index("<svg") :]
    text = re.sub(r"<metadata>.*?</metadata>\s*", "", text, flags=re.S)
    text = re.sub(r'<style type="text/css">.*?</style>\s*', "", text, flags=re.S)
    text = _NAMESPACE.sub("", text)
    text = text.replace("xlink:href=", "href=")
    text = re.sub(r"font-family:[^;\"]*", "font-family: inherit", text)
    text = _ID_REF.sub(lambda m: f"{m.group(1)}{name}-{m.group(2)}", text)
    return _ROOT_SIZE.sub(
        rf'<svg\1 class="plot" role="img" aria-label="{html.escape(description, quote=True)}"',
        text,
        count=1,
    ).strip()
