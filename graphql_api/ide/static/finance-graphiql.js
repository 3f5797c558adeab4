// The GraphiQL page of finance-graphql (graphql_api/ide). Runs after React, ReactDOM,
// GraphiQL and its explorer plugin, all loaded from this server.
//
// Every /graphql request needs `Authorization: Bearer <key>`. The key lives in GraphiQL's
// Headers tab (remembered in this browser's localStorage). The schema (docs, autocompletion)
// is fetched only once that tab holds a well-formed key, and again each time the key changes:
// no request goes out without one, and pasting a key is enough, no reload needed.
(function () {
  "use strict";

  var HEADERS_STORAGE_KEY = "finance-api:graphiql:headers";
  // The shape of this API's keys (graphql_api/auth/service.py); half-typed keys don't match.
  var KEY_SHAPE = /^Bearer fgk_[A-Za-z0-9_-]{43}$/;
  var DEFAULT_QUERY = [
    "# finance-graphql. Run: Ctrl-Enter or the ▶ button. Complete: Ctrl-Space.",
    "# Every request needs an API key: in the Headers tab below,",
    '#   {"Authorization": "Bearer <key>"}',
    "# (`finance-api serve` prints one; `finance-api keys create` makes more).",
    "",
    "{ members(first: 5) { edges { node { memberNumber fullName } } } }",
    "",
  ].join("\n");

  var config = JSON.parse(document.getElementById("finance-graphiql-config").textContent);

  function parseHeaders(text) {
    try {
      var parsed = JSON.parse(text || "{}");
      return parsed && typeof parsed === "object" && !Array.isArray(parsed) ? parsed : null;
    } catch (error) {
      return null;
    }
  }

  function authorizationIn(text) {
    var headers = parseHeaders(text) || {};
    for (var name in headers) {
      if (name.toLowerCase() === "authorization" && typeof headers[name] === "string") {
        return headers[name].trim();
      }
    }
    return null;
  }

  // The stored headers with their Authorization replaced by the local admin key.
  function withKey(text, key) {
    var headers = parseHeaders(text) || {};
    var result = { Authorization: "Bearer " + key };
    for (var name in headers) {
      if (name.toLowerCase() !== "authorization") result[name] = headers[name];
    }
    return JSON.stringify(result, null, 2);
  }

  function storedHeaders() {
    try {
      return window.localStorage.getItem(HEADERS_STORAGE_KEY) || "";
    } catch (error) {
      return "";
    }
  }

  function storeHeaders(text) {
    try {
      window.localStorage.setItem(HEADERS_STORAGE_KEY, text);
    } catch (error) {
      // Storage may be disabled: the key then lasts as long as the page.
    }
  }

  var initialHeaders = config.localAdminKey
    ? withKey(storedHeaders(), config.localAdminKey)
    : storedHeaders();
  // The server speaks plain JSON: no multipart incremental delivery, no subscriptions.
  var fetchGraphQL = GraphiQL.createFetcher({ url: config.url, enableIncrementalDelivery: false });
  var explorer = GraphiQLPluginExplorer.explorerPlugin();

  function FinanceGraphiQL() {
    var state = React.useState(initialHeaders);
    var headers = state[0];
    var setHeaders = state[1];
    var authorization = authorizationIn(headers);
    var key = authorization !== null && KEY_SHAPE.test(authorization) ? authorization : null;
    // GraphiQL fetches the schema again whenever it gets a new fetcher object: one per key.
    var fetcher = React.useMemo(
      function () {
        return function (params, options) {
          return fetchGraphQL(params, options);
        };
      },
      [key],
    );
    return React.createElement(GraphiQL, {
      fetcher: fetcher,
      // null: no schema and no introspection request until there is a key to send.
      schema: key ? undefined : null,
      headers: headers,
      onEditHeaders: function (text) {
        setHeaders(text);
        storeHeaders(text);
      },
      defaultQuery: DEFAULT_QUERY,
      defaultEditorToolsVisibility: "headers",
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: false,
      inputValueDeprecation: true,
      plugins: [explorer],
    });
  }

  ReactDOM.createRoot(document.getElementById("graphiql")).render(
    React.createElement(FinanceGraphiQL),
  );
})();
