"""The GraphiQL page's scripts and styles, served by the app itself under /ide/.

Only the .js and .css files in graphql_api/ide/static are served (not the licences, README or
checksums), each at a URL carrying a hash of its content (`?v=`), so browsers may keep them
for a year: a changed file gets a new URL. /ide/ is outside /graphql, so neither the HTTP guard
nor authentication nor the rate limiter sees these requests: they need no key.
"""

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from starlette.requests import Request
from starlette.responses import FileResponse, Response

from graphql_api.security.http_errors import error_body

ASSETS_PREFIX: Final = "/ide"
CACHE_FOREVER: Final = "public, max-age=31536000, immutable"
MEDIA_TYPES: Final = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
}
_HASH_CHARS: Final = 16


@dataclass(frozen=True)
class Asset:
    file: Path
    media_type: str
    url: str


class AssetTable:
    """Every servable file under `static_dir`, by its path relative to it."""

    def __init__(self, static_dir: Path) -> None:
        self.assets = {
            path.relative_to(static_dir).as_posix(): _asset(path, static_dir)
            for path in sorted(static_dir.rglob("*"))
            if path.is_file() and path.suffix in MEDIA_TYPES
        }

    def url(self, relative_path: str) -> str:
        return self.assets[relative_path].url

    async def endpoint(self, request: Request) -> Response:
        asset = self.assets.get(request.path_params["path"])
        if asset is None:
            return Response(
                error_body("No such GraphiQL asset.", "NOT_FOUND"),
                status_code=404,
                media_type="application/json",
            )
        return FileResponse(
            asset.file,
            media_type=asset.media_type,
            headers={"Cache-Control": CACHE_FOREVER, "X-Content-Type-Options": "nosniff"},
        )


def _asset(path: Path, static_dir: Path) -> Asset:
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:_HASH_CHARS]
    url = f"{ASSETS_PREFIX}/{path.relative_to(static_dir).as_posix()}?v={digest}"
    return Asset(path, MEDIA_TYPES[path.suffix], url)
