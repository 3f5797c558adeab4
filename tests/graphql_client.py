"""The one GraphQL client the tests use against a served API (real HTTP on loopback).

`response` is the raw httpx response (status, headers, exact body); `post` asserts a 200 and
returns the JSON body (GraphQL errors are 200s); `ok` also asserts there were no errors and
returns `data`; `errors` and `error_codes` return what went wrong. `http` is the underlying
httpx.Client, for requests that are not GraphQL POSTs (GET, other media types, raw bodies).
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

GRAPHQL_PATH = "/graphql"


class GraphQLClient:
    """Posts GraphQL documents to one API with one set of headers (usually one API key)."""

    def __init__(self, http: httpx.Client) -> None:
        self.http = http

    @classmethod
    @contextmanager
    def connect(
        cls, base_url: str, token: str | None = None, **options: Any
    ) -> Iterator["GraphQLClient"]:
        """A client for `base_url`, sending `token` as a bearer key when given; `options` go
        to httpx.Client (event_hooks, transport, timeout: 30 s unless given)."""
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        options.setdefault("timeout", 30)
        with httpx.Client(base_url=base_url, headers=headers, **options) as http:
            yield cls(http)

    def response(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        headers: dict[str, str] | None = None,
        **body: Any,
    ) -> httpx.Response:
        """The raw response to {query, variables, **body} (e.g. operationName, extensions)."""
        payload = {"query": query, "variables": variables or {}, **body}
        return self.http.post(GRAPHQL_PATH, json=payload, headers=headers)

    def post(self, query: str, variables: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        response = self.response(query, variables, **kwargs)
        assert response.status_code == 200, response.text
        return response.json()

    def ok(self, query: str, variables: dict[str, Any] | None = None) -> Any:
        body = self.post(query, variables)
        assert body.get("errors") is None, body["errors"]
        return body["data"]

    def errors(self, query: str, variables: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        errors: list[dict[str, Any]] = self.post(query, variables).get("errors") or []
        return errors

    def error_codes(self, query: str, variables: dict[str, Any] | None = None) -> list[str]:
        return [e.get("extensions", {}).get("code", "") for e in self.errors(query, variables)]
