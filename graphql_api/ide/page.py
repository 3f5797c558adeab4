"""The GraphiQL page at GET /graphql (Accept: text/html), replacing strawberry's CDN-based one.

Every URL in it is on this server (/ide/...), and its Content-Security-Policy lets the browser
load nothing from anywhere else, so GraphiQL works offline and tells no other host it is open.
The page holds no data; its only secret is the local admin key, and only for the developer's
own browser (local_key.py).
"""

import json
import string
from pathlib import Path
from typing import Final

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from graphql_api.config import Settings
from graphql_api.ide.assets import AssetTable
from graphql_api.ide.local_key import local_admin_key
from graphql_api.ide.vendor import EXPLORER_PLUGIN, GRAPHIQL, REACT, REACT_DOM
from graphql_api.security.http_errors import GRAPHQL_PATH, error_body

_TEMPLATE: Final = string.Template((Path(__file__).parent / "page.html").read_text())

CONTENT_SECURITY_POLICY: Final = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        # GraphiQL's dialogs (Radix, react-remove-scroll) insert <style> elements.
        "style-src 'self' 'unsafe-inline'",
        # graphiql.min.css inlines its fonts and icons as data: URLs.
        "font-src 'self' data:",
        "img-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    )
)
PAGE_HEADERS: Final = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    # It may carry a key: never cached, never framed, never a Referer elsewhere.
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


class GraphiQLPage:
    def __init__(self, assets: AssetTable, settings: Settings) -> None:
        self.settings = settings
        self.urls = {
            "graphiql_css": assets.url(GRAPHIQL.path("graphiql.min.css")),
            "explorer_css": assets.url(EXPLORER_PLUGIN.path("style.css")),
            "page_css": assets.url("finance-graphiql.css"),
            "react_js": assets.url(REACT.path("react.production.min.js")),
            "react_dom_js": assets.url(REACT_DOM.path("react-dom.production.min.js")),
            "graphiql_js": assets.url(GRAPHIQL.path("graphiql.min.js")),
            "explorer_js": assets.url(EXPLORER_PLUGIN.path("index.umd.js")),
            "page_js": assets.url("finance-graphiql.js"),
        }

    def render(self, admin_key: str | None) -> str:
        config = {"url": GRAPHQL_PATH, "localAdminKey": admin_key}
        return _TEMPLATE.substitute(self.urls, config=_script_json(config))

    async def endpoint(self, request: Request) -> Response:
        # The HTTP guard lets only GETs asking for HTML (and carrying no `query`) reach /graphql.
        if "text/html" not in request.headers.get("accept", ""):
            return Response(
                error_body(
                    "Send GraphQL operations as POST with a JSON body.", "METHOD_NOT_ALLOWED"
                ),
                status_code=405,
                media_type="application/json",
                headers={"Allow": "POST"},
            )
        page = self.render(local_admin_key(request.scope, self.settings))
        return HTMLResponse(page, headers=PAGE_HEADERS)


def _script_json(value: object) -> str:
    """JSON that cannot end its <script> element or open a comment in it."""
    text = json.dumps(value)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
