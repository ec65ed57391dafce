"""Check that a built site loads nothing from the network (run after ``mkdocs build``).

Every page's scripts, style sheets, images and frames must be files of the site itself,
no page may name a CDN, the style sheets may not import remote fonts, and the bundled
MathJax must be there. (The JavaScript bundles of Material and MathJax hold fallback URLs
for features this site does not use: a ResizeObserver polyfill for old browsers, Mermaid
diagrams, MathJax's speech menu, which mathjax-config.js turns off; they are not checked.)

    python docs/check_offline.py site
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

CDN = re.compile(r"cdn\.|unpkg\.com|jsdelivr|cdnjs|googleapis|gstatic", re.I)
LOADS = re.compile(
    r"<(?:script|img|iframe|source)\b[^>]*\bsrc=[\"']([^\"']+)|"
    r"<link\b[^>]*\bhref=[\"']([^\"']+)",
    re.I,
)
REMOTE = re.compile(r"^(?:[a-z][a-z0-9+.-]*:)?//", re.I)
CSS_REMOTE = re.compile(r"(?:@import|url\()\s*[\"']?(?:https?:)?//", re.I)


def problems(site: Path) -> list[str]:
    """Return one line per remote load found in the site at ``site`` (empty: offline)."""
    found = []
    if not (site / "assets" / "mathjax" / "tex-svg.js").is_file():
        found.append("assets/mathjax/tex-svg.js: the bundled MathJax is missing")
    for page in sorted(site.rglob("*.html")):
        text = page.read_text(encoding="utf-8", errors="replace")
        rel = page.relative_to(site)
        for match in LOADS.finditer(text):
            url = match.group(1) or match.group(2)
            if REMOTE.match(url):
                found.append(f"{rel}: loads {url}")
        for match in CDN.finditer(text):
            context = text[max(0, match.start() - 40) : match.end() + 40]
            found.append(f"{rel}: names a CDN: {context!r}")
    for sheet in sorted(site.rglob("*.css")):
        if CSS_REMOTE.search(sheet.read_text(encoding="utf-8", errors="replace")):
            found.append(f"{sheet.relative_to(site)}: imports a remote file")
    return found


def main(argv: list[str]) -> int:
    """Print the problems of the site named by ``argv[0]`` (default ``site``); exit 1 if any."""
    site = Path(argv[0] if argv else "site")
    if not site.is_dir():
        print(f"error: no built site at {site}", file=sys.stderr)
        return 1
    found = problems(site)
    for line in found:
        print(f"error: {line}", file=sys.stderr)
    if not found:
        print(f"{site}: nothing is loaded from the network")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
