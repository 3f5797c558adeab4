"""GraphiQL served from this package: works offline, talks to no other host.

- `vendor.py`: the npm packages (React, GraphiQL, its explorer plugin) vendored at pinned
  versions into static/vendor by scripts/vendor_graphiql.py, with their licences and checksums;
- `assets.py`: serves static/*.js and *.css under /ide/ with year-long cache headers;
- `page.py`: the HTML page at GET /graphql (Accept: text/html);
- `local_key.py`: when the page opens with the local admin key in its headers;
- static/finance-graphiql.js: mounts GraphiQL, fetching the schema only once a well-formed
  key is in the Headers tab, and again whenever that key changes.
"""

from starlette.applications import Starlette
from starlette.routing import Route

from graphql_api.config import Settings
from graphql_api.ide.assets import ASSETS_PREFIX, AssetTable
from graphql_api.ide.page import GraphiQLPage
from graphql_api.ide.vendor import STATIC_DIR
from graphql_api.security.http_errors import GRAPHQL_PATH

__all__ = ["install_ide"]


def install_ide(app: Starlette, settings: Settings) -> None:
    """Serve GraphiQL and its assets when GraphiQL is enabled (settings.graphiql_enabled);
    otherwise add nothing (GET /graphql for HTML then gets strawberry's 404).

    The routes go first in the routing table, so they win over the GraphQL router's own
    GET /graphql whichever is added first; that router should have `graphql_ide=None`."""
    if not settings.graphiql_enabled:
        return
    assets = AssetTable(STATIC_DIR)
    page = GraphiQLPage(assets, settings)
    routes = [
        Route(GRAPHQL_PATH, page.endpoint, methods=["GET"], include_in_schema=False),
        Route(f"{ASSETS_PREFIX}/{{path:path}}", assets.endpoint, methods=["GET"]),
    ]
    app.router.routes[:0] = routes
