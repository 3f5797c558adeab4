"""The local admin key in the GraphiQL page: for the developer's own browser only.

`finance-api serve` on the embedded development database keeps an ADMIN key in
`<data dir>/admin-api-key` (auth/bootstrap.py) and points `ide_admin_key_file` at it (cli.py);
nothing else sets it. The page then opens with that key in its Headers tab, but only when all
of these hold, and otherwise the page carries no key at all:

- not production (whatever the settings say);
- the request came over the loopback interface: the peer's address and the server socket's
  own address (ASGI `client` and `server`, both taken from the socket) are loopback, so a
  server listening on 0.0.0.0 still gives nothing to another machine;
- no proxy is involved (no Forwarded / X-Forwarded-* / X-Real-IP header): a reverse proxy on
  the same machine connects over loopback on behalf of anyone;
- the Host header names this machine (localhost, *.localhost, a loopback address), so a page
  on another site whose DNS name was re-pointed at 127.0.0.1 (DNS rebinding) never gets it.
"""

import ipaddress
import logging
from pathlib import Path
from typing import Final
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.types import Scope

from graphql_api.auth.service import looks_like_token
from graphql_api.config import Settings

logger = logging.getLogger(__name__)

PROXY_HEADERS: Final = ("forwarded", "x-forwarded-for", "x-forwarded-host", "x-real-ip")


def local_admin_key(scope: Scope, settings: Settings) -> str | None:
    """The key to put in this page's headers, or None."""
    key_file = settings.ide_admin_key_file
    if settings.is_production or key_file is None or not is_local_request(scope):
        return None
    return _read_key(key_file)


def is_local_request(scope: Scope) -> bool:
    client, server = scope.get("client"), scope.get("server")
    if not client or not server or not (_is_loopback_ip(client[0]) and _is_loopback_ip(server[0])):
        return False
    headers = Headers(scope=scope)
    if any(name in headers for name in PROXY_HEADERS):
        return False
    return _names_this_machine(headers.get("host", ""))


def _is_loopback_ip(host: object) -> bool:
    if not isinstance(host, str):
        return False  # e.g. a Unix socket's path
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _names_this_machine(host_header: str) -> bool:
    try:
        host = urlsplit(f"//{host_header}").hostname
    except ValueError:
        return False
    if not host:
        return False
    return host == "localhost" or host.endswith(".localhost") or _is_loopback_ip(host)


def _read_key(key_file: Path) -> str | None:
    try:
        key = key_file.read_text().strip()
    except OSError as error:
        logger.warning("GraphiQL: cannot read the local admin key (%s): %s", key_file, error)
        return None
    return key if looks_like_token(key) else None
