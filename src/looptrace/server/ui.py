"""The web UI mount: `/` serves index.html and `/ui/{path}` the static ES modules and CSS.

The UI is plain files under `looptrace/ui/` (no build step) that read nothing but the HTTP API.
Every UI response carries a strict Content-Security-Policy: scripts and styles only from this
origin, no inline script, no plugins, no framing, so span content that slips into the page as
markup still cannot run.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request, Response

router = APIRouter()

UI_DIR = Path(__file__).resolve().parent.parent / "ui"
"""Where the UI's static files live inside the installed package."""

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)

_MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
}


def security_headers() -> dict[str, str]:
    """Headers every UI response carries."""
    return {
        "Content-Security-Policy": CONTENT_SECURITY_POLICY,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        # Revalidate each time (cheap with the ETag): a pip upgrade must not leave stale modules.
        "Cache-Control": "no-cache",
    }


def _file_response(request: Request, path: Path) -> Response:
    body = path.read_bytes()
    etag = '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
    headers = security_headers() | {"ETag": etag}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=_MEDIA_TYPES[path.suffix], headers=headers)


@router.get("/", include_in_schema=False)
async def index(request: Request) -> Response:
    """The single page; routing happens in the URL fragment (#/traces, #/dashboard, ...)."""
    return _file_response(request, UI_DIR / "index.html")


@router.get("/ui/{asset:path}", include_in_schema=False)
async def asset(request: Request, asset: str) -> Response:
    """A static UI file; only known file types inside the UI folder, never a path outside it."""
    path = (UI_DIR / asset).resolve()
    if not path.is_relative_to(UI_DIR) or path.suffix not in _MEDIA_TYPES or not path.is_file():
        raise HTTPException(status_code=404, detail="not found", headers=security_headers())
    return _file_response(request, path)
