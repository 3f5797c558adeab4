"""Case tables for tests/test_hostile_input.py: hostile requests and what each must get.

`RawCase`s are HTTP requests (method, media type, body) built by hand; `GqlCase`s are
well-formed JSON POSTs of a GraphQL document. Expected outcomes are what the API is designed
to answer (graphql_api/security, graphql_api/graph/scalars.py, the services' userErrors).
"""

import base64
import json
from dataclasses import dataclass, field
from typing import Any

FAST_QUERY = "{ members(first: 1) { totalCount } }"
LOAN = (
    "mutation ($amount: Decimal!) { applyForLoan(input: {memberNumber: %s, amount: $amount,"
    ' income: "50000.00", employmentYears: 3})'
    " { loanApplication { id } userErrors { code field } } }"
)
OWNER_LOAN = LOAN % '"M-100010"'
LOAN_LITERAL = (
    'mutation { applyForLoan(input: {memberNumber: "M-100010", amount: %s, income: "50000.00",'
    " employmentYears: 3}) { loanApplication { id } userErrors { code field } } }"
)


def global_id(type_name: str, row_id: int | str) -> str:
    return base64.b64encode(f"{type_name}:{row_id}".encode()).decode()


def cursor(raw_json: str) -> str:
    """A cursor in this API's own format (`k1:` + JSON), holding whatever values we like."""
    return base64.urlsafe_b64encode(b"k1:" + raw_json.encode()).decode()


def nested(depth: int) -> str:
    """`depth` levels of selections over real relations."""
    cycle = ["loanApplications(first: 1)", "edges", "node", "member"]
    fields = [cycle[i % len(cycle)] for i in range(depth)]
    return "{ " + " { ".join(fields) + " { __typename" + " }" * depth + " }"


def aliased(count: int, selection: str = "__typename") -> str:
    return "{ " + " ".join(f"a{i}: {selection}" for i in range(count)) + " }"


def fragment_bomb(levels: int, leaf: str) -> str:
    """Each fragment spreads the previous one twice: 2^levels copies of `leaf`."""
    fragments = [f"fragment F0 on Query {{ {leaf} }}"]
    fragments += [f"fragment F{k} on Query {{ ...F{k - 1} ...F{k - 1} }}" for k in range(1, levels)]
    return f"query {{ ...F{levels - 1} }}\n" + "\n".join(fragments)


def fragment_chain_depth(levels: int) -> str:
    """Depth hidden in fragments: each one adds a member -> loans -> edges -> node hop."""
    hop = "member {{ loanApplications(first: 1) {{ edges {{ node {{ ...L{next} }} }} }} }}"
    fragments = [
        f"fragment L{k} on LoanApplication {{ " + hop.format(next=k + 1) + " }"
        for k in range(levels)
    ]
    fragments.append(f"fragment L{levels} on LoanApplication {{ id }}")
    return "{ loanApplications(first: 1) { edges { node { ...L0 } } } }\n" + "\n".join(fragments)


def json_body(payload: Any) -> bytes:
    return json.dumps(payload).encode()


@dataclass(frozen=True)
class RawCase:
    """An HTTP request built by hand, and the status and code it must get."""

    id: str
    status: int
    code: str
    method: str = "POST"
    path: str = "/graphql"
    params: dict[str, str] | None = None
    headers: dict[str, str] = field(default_factory=lambda: {"content-type": "application/json"})
    content: bytes | None = None
    message: str = ""  # a substring the error message must contain
    chunked: bool = False  # stream the body without a Content-Length


@dataclass(frozen=True)
class GqlCase:
    """A JSON POST of a GraphQL document and what it must get: these error codes (empty:
    none), and, when given, exactly this `data` and these userErrors ("CODE:input.field")."""

    id: str
    query: str
    variables: dict[str, Any] | None = None
    codes: frozenset[str] | None = frozenset()  # None: any typed code but INTERNAL_SERVER_ERROR
    data: Any = None
    user_errors: tuple[str, ...] | None = None


def codes(*names: str) -> frozenset[str]:
    return frozenset(names)


MUTATION_TEXT = 'mutation { syncMember(input: {memberNumber: "M-100001"}) { userErrors { code } } }'
TEXT_PLAIN = {"content-type": "text/plain"}

# --- HTTP: method, media type, malformed JSON, batches, body size ---------------------------

METHOD_CASES = [
    RawCase("mutation-over-get", 405, "METHOD_NOT_ALLOWED", "GET", params={"query": MUTATION_TEXT}),
    RawCase(
        "mutation-over-get-posing-as-graphiql",
        405,
        "METHOD_NOT_ALLOWED",
        "GET",
        params={"query": MUTATION_TEXT},
        headers={"accept": "text/html"},
    ),
    RawCase(
        "mutation-over-get-trailing-slash",
        405,
        "METHOD_NOT_ALLOWED",
        "GET",
        path="/graphql/",
        params={"query": MUTATION_TEXT, "operationName": ""},
    ),
    RawCase("query-over-get", 405, "METHOD_NOT_ALLOWED", "GET", params={"query": FAST_QUERY}),
    RawCase("put", 405, "METHOD_NOT_ALLOWED", "PUT", content=json_body({"query": FAST_QUERY})),
    RawCase("delete", 405, "METHOD_NOT_ALLOWED", "DELETE"),
    RawCase(
        "patch", 405, "METHOD_NOT_ALLOWED", "PATCH", content=json_body({"query": MUTATION_TEXT})
    ),
]

_QUERY_BODY = json_body({"query": FAST_QUERY})
MEDIA_TYPE_CASES = [
    RawCase(f"content-type={ct or 'missing'}", 415, "UNSUPPORTED_MEDIA_TYPE", headers=h, content=b)
    for ct, h, b in [
        ("text/plain", TEXT_PLAIN, _QUERY_BODY),
        ("application/graphql", {"content-type": "application/graphql"}, FAST_QUERY.encode()),
        (
            "form-urlencoded",
            {"content-type": "application/x-www-form-urlencoded"},
            b"query=" + MUTATION_TEXT.encode(),
        ),
        (
            "multipart",
            {"content-type": "multipart/form-data; boundary=X"},
            b'--X\r\nContent-Disposition: form-data; name="operations"\r\n\r\n'
            + _QUERY_BODY
            + b"\r\n--X--\r\n",
        ),
        ("", {}, _QUERY_BODY),
        ("utf-16", {"content-type": "application/json; charset=utf-16"}, _QUERY_BODY),
        ("json-lookalike", {"content-type": "application/jsonp"}, _QUERY_BODY),
    ]
]

MALFORMED_CASES = [
    RawCase(
        "truncated-json", 400, "BAD_REQUEST", content=b'{"query": "{ members {', message="JSON"
    ),
    RawCase("trailing-garbage", 400, "BAD_REQUEST", content=_QUERY_BODY + b" }{", message="JSON"),
    RawCase("single-quotes", 400, "BAD_REQUEST", content=b"{'query': '{ __typename }'}"),
    RawCase("invalid-utf8", 400, "BAD_REQUEST", content=b'{"query": "{ \xff\xfe }"}'),
    RawCase("empty-body", 400, "BAD_REQUEST", content=b""),
    RawCase(
        "json-nested-50k-deep-in-variables",
        400,
        "BAD_REQUEST",
        content=b'{"query": "{ __typename }", "variables": {"v": '
        + b"[" * 30_000
        + b"]" * 30_000
        + b"}}",
        message="JSON",
    ),
    RawCase("query-is-a-number", 400, "BAD_REQUEST", content=json_body({"query": 1})),
    RawCase("query-is-null", 400, "BAD_REQUEST", content=json_body({"query": None})),
    RawCase("query-is-blank", 400, "BAD_REQUEST", content=json_body({"query": " \n\t "})),
    RawCase(
        "variables-is-a-string",
        400,
        "BAD_REQUEST",
        content=json_body({"query": FAST_QUERY, "variables": '{"a": 1}'}),
        message="variables",
    ),
    RawCase(
        "extensions-is-a-list",
        400,
        "BAD_REQUEST",
        content=json_body({"query": FAST_QUERY, "extensions": []}),
        message="extensions",
    ),
    RawCase(
        "operation-name-is-a-list",
        400,
        "BAD_REQUEST",
        content=json_body({"query": FAST_QUERY, "operationName": ["a"]}),
    ),
    RawCase(
        "unknown-operation-name",
        400,
        "BAD_REQUEST",
        content=json_body({"query": "query A { __typename }", "operationName": "DropTables"}),
    ),
]

BATCH_CASES = [
    RawCase(
        "batch-of-two-queries",
        400,
        "BAD_REQUEST",
        content=json_body([{"query": FAST_QUERY}, {"query": FAST_QUERY}]),
        message="Batched",
    ),
    RawCase(
        "batch-of-mutations",
        400,
        "BAD_REQUEST",
        content=json_body([{"query": MUTATION_TEXT}] * 50),
        message="Batched",
    ),
    RawCase("empty-batch", 400, "BAD_REQUEST", content=b"[]", message="Batched"),
    RawCase(
        "nested-batch",
        400,
        "BAD_REQUEST",
        content=json_body([[{"query": FAST_QUERY}]]),
        message="Batched",
    ),
]

_PADDING = " " * (101 * 1024)
SIZE_CASES = [
    RawCase(
        "query-over-100kb",
        413,
        "REQUEST_TOO_LARGE",
        content=json_body({"query": FAST_QUERY + _PADDING}),
    ),
    RawCase(
        "variables-over-100kb",
        413,
        "REQUEST_TOO_LARGE",
        content=json_body({"query": FAST_QUERY, "variables": {"v": "x" * 150_000}}),
    ),
    RawCase("one-megabyte-body", 413, "REQUEST_TOO_LARGE", content=b"[" * 1024 * 1024),
    RawCase(
        "chunked-without-content-length",
        413,
        "REQUEST_TOO_LARGE",
        content=json_body({"query": FAST_QUERY + _PADDING * 2}),
        chunked=True,
    ),
]

# Non-finite numbers as bare JSON tokens (Python's json accepts them; they are not JSON).
RAW_MONEY_CASES = [
    RawCase(
        f"variable-json-token-{token}",
        200,
        "BAD_USER_INPUT",
        content=b'{"query": '
        + json.dumps(OWNER_LOAN).encode()
        + b', "variables": {"amount": '
        + token.encode()
        + b"}}",
    )
    for token in ("NaN", "Infinity", "-Infinity", "1e400")
]

# --- GraphQL documents: depth, aliases, fragments, tokens, page sizes -----------------------

_FIRST = "{ members(first: %s) { totalCount } }"
FORGED = '["\' OR 1=1 --", "x"]'
DEPTH_CASES = [
    GqlCase("depth-11-over-relations", nested(11), codes=codes("QUERY_TOO_DEEP")),
    GqlCase("depth-40-over-relations", nested(40), codes=codes("QUERY_TOO_DEEP")),
    GqlCase(
        "depth-600-parser-limit",
        "{" + "a{" * 600 + "a" + "}" * 600 + "}",
        codes=codes("QUERY_TOO_DEEP"),
    ),
    GqlCase(
        "inline-fragments-400-deep",
        "{" + "... on Query {" * 400 + "__typename" + "}" * 400 + "}",
        codes=codes("QUERY_TOO_DEEP"),
    ),
    GqlCase("depth-hidden-in-fragments", fragment_chain_depth(4), codes=codes("QUERY_TOO_DEEP")),
]
ALIAS_CASES = [
    GqlCase("31-aliases", aliased(31, FAST_QUERY[2:-2]), codes=codes("TOO_MANY_ALIASES")),
    GqlCase("600-typename-aliases", aliased(600), codes=codes("TOO_MANY_ALIASES")),
    GqlCase(
        "aliases-inside-nested-selections",
        "{ members(first: 1) { edges { node { "
        + " ".join(f"l{i}: loanApplications(first: 100) {{ totalCount }}" for i in range(40))
        + " } } } }",
        codes=codes("TOO_MANY_ALIASES"),
    ),
    GqlCase(
        "fragment-bomb-2^40-aliases",
        fragment_bomb(40, "a: members(first: 100) { totalCount }"),
        codes=codes("TOO_MANY_ALIASES"),
    ),
]
CYCLE_CASES = [
    GqlCase(
        "fragment-spreads-itself",
        "{ ...A } fragment A on Query { __typename ...A }",
        codes=codes("GRAPHQL_VALIDATION_FAILED"),
    ),
    GqlCase(
        "two-fragment-cycle",
        "{ ...A } fragment A on Query { members(first: 1) { totalCount } ...B }"
        " fragment B on Query { ...A }",
        codes=codes("GRAPHQL_VALIDATION_FAILED"),
    ),
    GqlCase(
        "three-fragment-cycle-below-a-field",
        "{ members(first: 1) { edges { node { ...A } } } }"
        " fragment A on Member { id ...B } fragment B on Member { fullName ...C }"
        " fragment C on Member { email ...A }",
        codes=codes("GRAPHQL_VALIDATION_FAILED"),
    ),
]
TOKEN_CASES = [
    GqlCase("2001-fields", "{ " + "__typename " * 2001 + "}", codes=codes("TOO_MANY_TOKENS")),
    GqlCase(
        "huge-list-argument",
        "{ members(filter: {status: [" + "ACTIVE " * 5000 + "]}) { totalCount } }",
        codes=codes("TOO_MANY_TOKENS"),
    ),
    GqlCase(
        "variable-definitions-flood",
        "query (" + " ".join(f"$v{i}: Int" for i in range(3000)) + ") { __typename }",
        codes=codes("TOO_MANY_TOKENS"),
    ),
    GqlCase(
        "90kb-of-comments-only",
        "# " + "x" * 90_000 + "\n",
        codes=codes("GRAPHQL_PARSE_FAILED"),
    ),
    GqlCase(
        "repeated-directive",
        "{ __typename @include(if: true) @include(if: true) }",
        codes=codes("GRAPHQL_VALIDATION_FAILED"),
    ),
]
PAGE_CASES = [
    GqlCase("first-101", _FIRST % 101, codes=codes("INVALID_PAGE_REQUEST")),
    GqlCase("first-int32-max", _FIRST % (2**31 - 1), codes=codes("INVALID_PAGE_REQUEST")),
    GqlCase("first-over-int32", _FIRST % 2**31, codes=codes("GRAPHQL_VALIDATION_FAILED")),
    GqlCase(
        "first-1e100-literal", _FIRST % ("1" + "0" * 100), codes=codes("GRAPHQL_VALIDATION_FAILED")
    ),
    GqlCase(
        "first-huge-variable",
        "query ($n: Int) { members(first: $n) { totalCount } }",
        {"n": 10**12},
        codes=codes("BAD_USER_INPUT"),
    ),
    GqlCase("first-zero", _FIRST % 0, codes=codes("INVALID_PAGE_REQUEST")),
    GqlCase("first-minus-one", _FIRST % -1, codes=codes("INVALID_PAGE_REQUEST")),
    GqlCase("first-int32-min", _FIRST % -(2**31), codes=codes("INVALID_PAGE_REQUEST")),
    GqlCase(
        "first-negative-variable",
        "query ($n: Int) { auditLogs(first: $n) { totalCount } }",
        {"n": -5},
        codes=codes("INVALID_PAGE_REQUEST"),
    ),
    GqlCase(
        "nested-first-zero",
        '{ member(memberNumber: "M-100010") { loanApplications(first: 0) { totalCount } } }',
        codes=codes("INVALID_PAGE_REQUEST"),
        data={"member": None},
    ),
    GqlCase(
        "nested-first-1000",
        '{ member(memberNumber: "M-100010") { predictions(first: 1000) { totalCount } } }',
        codes=codes("INVALID_PAGE_REQUEST"),
        data={"member": None},
    ),
    GqlCase(
        "first-as-float-variable",
        "query ($n: Int) { members(first: $n) { totalCount } }",
        {"n": 1.5},
        codes=codes("BAD_USER_INPUT"),
    ),
    GqlCase(
        "forged-cursor",
        f'{{ loanApplications(after: "{cursor(FORGED)}") {{ totalCount }} }}',
        codes=codes("INVALID_CURSOR"),
    ),
    GqlCase(
        "garbage-cursor",
        '{ members(after: "\'; DROP TABLE members; --") { totalCount } }',
        codes=codes("INVALID_CURSOR"),
    ),
]

# --- Injection strings, unicode tricks and huge strings in filters --------------------------

_SEARCH = (
    "query ($s: String) { members(filter: {search: $s}) { totalCount edges { node { id } } } }"
)
_NO_MEMBERS = {"members": {"totalCount": 0, "edges": []}}
FILTER_CASES = [
    GqlCase(f"search-{name}", _SEARCH, {"s": value}, data=_NO_MEMBERS)
    for name, value in [
        ("or-1-equals-1", "' OR 1=1 --"),
        ("drop-table", "'; DROP TABLE members; --"),
        ("union", "x' union select null, null --"),
        ("percent-wildcard", "%"),
        ("underscore-wildcard", "_"),
        ("wildcard-after-prefix", "M-1000%"),
        ("backslash", "\\"),
        ("fullwidth-letter", "\uff2d-100010"),
        ("unicode-hyphen", "M\u2010100010"),
        ("right-to-left-override", "\u202eM-100010"),
        ("zero-width-space", "M-1000\u200b10"),
        ("90kb-string", "M" * 90_000),
    ]
] + [
    GqlCase(
        "loans-member-number-injection",
        "query ($s: String) { loanApplications(filter: {memberNumber: $s}) { totalCount } }",
        {"s": "M-100010' OR '1'='1"},
        data={"loanApplications": {"totalCount": 0}},
    ),
    GqlCase(
        "predictions-model-version-wildcard",
        "query ($s: String) { predictions(filter: {modelVersion: $s}) { totalCount } }",
        {"s": "%"},
        data={"predictions": {"totalCount": 0}},
    ),
    GqlCase(
        "audit-action-injection",
        "query ($s: String) { auditLogs(filter: {action: $s}) { totalCount } }",
        {"s": "loan.applied' OR 'a'='a"},
        data={"auditLogs": {"totalCount": 0}},
    ),
    GqlCase(
        "audit-request-id-90kb",
        "query ($s: String) { auditLogs(filter: {requestId: $s}) { totalCount } }",
        {"s": "r" * 90_000},
        data={"auditLogs": {"totalCount": 0}},
    ),
    GqlCase(
        "member-number-injection",
        "query ($s: String!) { member(memberNumber: $s) { id } }",
        {"s": "M-100010' OR '1'='1"},
        data={"member": None},
    ),
    GqlCase(
        "90kb-string-literal-in-document",
        '{ member(memberNumber: "' + "9" * 90_000 + '") { id } }',
        data={"member": None},
    ),
    GqlCase(
        "global-id-injection",
        "query ($id: ID!) { node(id: $id) { id } }",
        {"id": "' OR 1=1 --"},
        codes=codes("BAD_USER_INPUT"),
        data={"node": None},
    ),
    GqlCase(
        "global-id-of-unknown-type",
        "query ($id: ID!) { node(id: $id) { id } }",
        {"id": global_id("ApiKey", 1)},
        data={"node": None},
    ),
    GqlCase(
        "date-filter-garbage",
        "query ($d: DateTime) { auditLogs(filter: {createdAfter: $d}) { totalCount } }",
        {"d": "2024-01-01'; DROP TABLE audit_logs; --"},
        codes=codes("BAD_USER_INPUT"),
    ),
]

# --- Mutation inputs: injection, NUL, huge strings (refused as userErrors, nothing written) --

_PREDICT = (
    "mutation ($n: String!, $t: String!) { predictSentiment(input: {memberNumber: $n, text: $t})"
    " { prediction { id } userErrors { code field } } }"
)
_CREATE = (
    "mutation ($n: String!, $name: String!, $email: String!) { createMember(input:"
    " {memberNumber: $n, fullName: $name, email: $email, status: ACTIVE})"
    " { member { id } userErrors { code field } } }"
)


def _create(number: str = "H-1", name: str = "Hostile Probe", email: str = "h@example.org") -> Any:
    return {"n": number, "name": name, "email": email}


MUTATION_CASES = [
    GqlCase(
        "text-5001-chars",
        _PREDICT,
        {"n": "M-100010", "t": "x" * 5001},
        user_errors=("INVALID_INPUT:input.text",),
    ),
    GqlCase(
        "text-90kb",
        _PREDICT,
        {"n": "M-100010", "t": "y" * 90_000},
        user_errors=("INVALID_INPUT:input.text",),
    ),
    GqlCase(
        "text-with-nul",
        _PREDICT,
        {"n": "M-100010", "t": "fine\u0000"},
        user_errors=("INVALID_INPUT:input.text",),
    ),
    GqlCase(
        "member-number-drop-table",
        _PREDICT,
        {"n": "'; DROP TABLE members; --", "t": "hello"},
        user_errors=("INVALID_INPUT:input.memberNumber",),
    ),
    GqlCase(
        "member-number-fullwidth",
        _PREDICT,
        {"n": "\uff2d-100010", "t": "hello"},
        user_errors=("INVALID_INPUT:input.memberNumber",),
    ),
    GqlCase(
        "full-name-with-nul",
        _CREATE,
        _create(name="Robert\u0000'); DROP TABLE members; --"),
        user_errors=("INVALID_INPUT:input.fullName",),
    ),
    GqlCase(
        "member-number-like-wildcard",
        _CREATE,
        _create(number="M-%"),
        user_errors=("INVALID_INPUT:input.memberNumber",),
    ),
    GqlCase(
        "email-with-nul",
        _CREATE,
        _create(email="a\u0000@example.org"),
        user_errors=("INVALID_INPUT:input.email",),
    ),
    GqlCase(
        "email-injection",
        _CREATE,
        _create(email="x'--@example.org; DROP TABLE members"),
        user_errors=("INVALID_INPUT:input.email",),
    ),
    GqlCase(
        "full-name-5001-chars",
        _CREATE,
        _create(name="n" * 5001),
        user_errors=("INVALID_INPUT:input.fullName",),
    ),
    GqlCase(
        "feedback-comment-with-nul",
        "mutation ($c: String) { submitFeedback(input: {predictionId: "
        f'"{global_id("Prediction", 1)}", isCorrect: true, comment: $c}})'
        " { feedback { id } userErrors { code field } } }",
        {"c": "ok\u0000"},
        user_errors=("INVALID_INPUT:input.comment",),
    ),
    GqlCase(
        "asset-class-with-nul",
        "mutation ($a: String!) { recordRecommendation(input: {portfolioId: "
        f'"{global_id("Portfolio", 1)}", modelName: "probe",'
        ' allocation: [{assetClass: $a, weight: "1"}]}) { recommendation { id }'
        " userErrors { code field } } }",
        {"a": "CASH\u0000"},
        user_errors=("INVALID_INPUT:input.allocation.0.assetClass",),
    ),
    GqlCase(
        "portfolio-id-beyond-bigint",
        "mutation { recordRecommendation(input: {portfolioId: "
        f'"{global_id("Portfolio", 10**30)}", modelName: "probe",'
        ' allocation: [{assetClass: "CASH", weight: "1"}]}) { recommendation { id }'
        " userErrors { code field } } }",
        user_errors=("NOT_FOUND:input.portfolioId",),
    ),
    GqlCase(
        "sync-member-number-with-nul",
        "mutation ($n: String!) { syncMember(input: {memberNumber: $n})"
        " { member { id } userErrors { code field } } }",
        {"n": "M-100001\u0000"},
        user_errors=("INVALID_INPUT:input.memberNumber",),
    ),
]

# --- Money: NaN, Infinity, exponents, over-precise amounts ----------------------------------

_LOAN_REFUSED = ("INVALID_INPUT:input.amount",)
MONEY_CASES = [
    # As variables: the Decimal scalar refuses them before any resolver runs...
    *(
        GqlCase(
            f"variable-{text or 'empty'}", OWNER_LOAN, {"amount": text}, codes("BAD_USER_INPUT")
        )
        for text in (
            "NaN",
            "nan",
            "sNaN",
            "Infinity",
            "-Infinity",
            "1e5",
            "1E+2",
            "100.0000001",
            "1" * 21,
            "+100.00",
            " 100.00",
            "100,00",
            "0x10",
            "",
        )
    ),
    GqlCase("variable-json-number", OWNER_LOAN, {"amount": 100.5}, codes("BAD_USER_INPUT")),
    GqlCase("variable-json-int", OWNER_LOAN, {"amount": 100}, codes("BAD_USER_INPUT")),
    # ...plain decimals the scalar takes are refused by the command's own limits.
    GqlCase("over-precise-cents", OWNER_LOAN, {"amount": "100.001"}, user_errors=_LOAN_REFUSED),
    GqlCase("zero", OWNER_LOAN, {"amount": "0.00"}, user_errors=_LOAN_REFUSED),
    GqlCase("negative-zero", OWNER_LOAN, {"amount": "-0"}, user_errors=_LOAN_REFUSED),
    GqlCase("negative", OWNER_LOAN, {"amount": "-100.00"}, user_errors=_LOAN_REFUSED),
    GqlCase("20-digits", OWNER_LOAN, {"amount": "9" * 20}, user_errors=_LOAN_REFUSED),
    # As literals in the document: refused at validation.
    *(
        GqlCase(
            f"literal-{name}",
            LOAN_LITERAL % literal,
            codes=codes("GRAPHQL_VALIDATION_FAILED"),
        )
        for name, literal in (
            ("NaN-enum", "NaN"),
            ("NaN-string", '"NaN"'),
            ("Infinity-string", '"Infinity"'),
            ("exponent-float", "1e5"),
            ("exponent-string", '"1e5"'),
            ("float", "100.5"),
            ("over-precise-string", '"100.1234567"'),
            ("int", "100"),
        )
    ),
    GqlCase(
        "portfolio-amount-exponent",
        'mutation { requestPortfolioRecommendation(input: {memberNumber: "M-100010",'
        ' riskProfile: BALANCED, amountUsd: "1E10"}) { portfolio { id } } }',
        codes=codes("GRAPHQL_VALIDATION_FAILED"),
    ),
    GqlCase(
        "allocation-weight-nan",
        "mutation ($w: Decimal!) { recordRecommendation(input: {portfolioId: "
        f'"{global_id("Portfolio", 1)}", modelName: "probe",'
        ' allocation: [{assetClass: "CASH", weight: $w}]}) { recommendation { id } } }',
        {"w": "NaN"},
        codes=codes("BAD_USER_INPUT"),
    ),
]

# --- Product bugs: inputs answered with INTERNAL_SERVER_ERROR (or accepted) -----------------

_ARABIC_ONE = "\u0661"  # ARABIC-INDIC DIGIT ONE: str.isdigit() is True, int() reads 1


@dataclass(frozen=True)
class BugCase:
    case: GqlCase
    reason: str


_NUL_REASON = (
    "a NUL (or lone surrogate) in a read argument reaches asyncpg, which cannot encode it: "
    "the resolver fails and the client gets a masked INTERNAL_SERVER_ERROR instead of a typed "
    "BAD_USER_INPUT (or an empty result); mutations refuse the same input as INVALID_INPUT"
)
_CURSOR_REASON = (
    "kit/pagination.decode_cursor accepts cursor values PostgreSQL cannot take (NUL or lone "
    "surrogates in strings, ids beyond BIGINT, timestamps out of range after the offset): "
    "INTERNAL_SERVER_ERROR instead of INVALID_CURSOR"
)
BUG_CASES = [
    *(
        BugCase(GqlCase(f"nul-in-{name}", query, {"s": "M-100010\u0000"}, None), _NUL_REASON)
        for name, query in (
            (
                "members-search",
                "query ($s: String) { members(filter: {search: $s}) { totalCount } }",
            ),
            (
                "loans-member-number",
                "query ($s: String) { loanApplications(filter: {memberNumber: $s})"
                " { totalCount } }",
            ),
            (
                "predictions-model-version",
                "query ($s: String) { predictions(filter: {modelVersion: $s}) { totalCount } }",
            ),
            (
                "audit-action",
                "query ($s: String) { auditLogs(filter: {action: $s}) { totalCount } }",
            ),
            ("member-number", "query ($s: String!) { member(memberNumber: $s) { id } }"),
            (
                "agent-context",
                "query ($s: String!) { agentContext(memberNumber: $s) { toolingHint } }",
            ),
        )
    ),
    BugCase(
        GqlCase(
            "lone-surrogate-in-members-search",
            "query ($s: String) { members(filter: {search: $s}) { totalCount } }",
            {"s": "\ud800"},
            None,
        ),
        _NUL_REASON,
    ),
    BugCase(
        GqlCase(
            "node-id-beyond-bigint",
            "query ($id: ID!) { node(id: $id) { id } }",
            {"id": global_id("Member", 10**22)},
            None,
        ),
        "graph/fields.resolve_many reads any str.isdigit() id with int(): an id beyond BIGINT "
        "fails in asyncpg (INTERNAL_SERVER_ERROR) instead of matching nothing (mutations use "
        "row_id, which refuses it)",
    ),
    BugCase(
        GqlCase(
            "node-id-with-arabic-indic-digit",
            "query ($id: ID!) { node(id: $id) { id } }",
            {"id": global_id("Member", _ARABIC_ONE)},
            data={"node": None},
        ),
        "graph/fields.resolve_many uses str.isdigit(): 'Member:\\u0661' (Arabic-Indic one) "
        "resolves to Member 1, so one row has many ids (mutations' row_id refuses it)",
    ),
    *(
        BugCase(
            GqlCase(
                f"cursor-{name}",
                f'{{ {field_}(after: "{cursor(raw)}") {{ totalCount }} }}',
                codes=codes("INVALID_CURSOR"),
            ),
            _CURSOR_REASON,
        )
        for name, field_, raw in (
            ("string-with-nul", "members", '["M-1\\u0000"]'),
            ("lone-surrogate", "members", '["\\ud800"]'),
            (
                "id-beyond-bigint-int",
                "loanApplications",
                '["2024-01-01T00:00:00+00:00", 99999999999999999999999]',
            ),
            ("timestamp-out-of-range", "loanApplications", '["0001-01-01T00:00:00+14:00", 1]'),
        )
    ),
    BugCase(
        GqlCase(
            "date-filter-out-of-range",
            "query ($d: DateTime) { auditLogs(filter: {createdAfter: $d}) { totalCount } }",
            {"d": "0001-01-01T00:00:00+14:00"},
            None,
        ),
        "a DateTime filter before 0001-01-01 UTC fails in asyncpg: INTERNAL_SERVER_ERROR "
        "instead of BAD_USER_INPUT (or an empty result)",
    ),
    BugCase(
        GqlCase(
            "idempotency-key-with-nul",
            'mutation ($k: String) { applyForLoan(input: {memberNumber: "M-100010",'
            ' amount: "1000.00", income: "50000.00", employmentYears: 3, idempotencyKey: $k})'
            " { loanApplication { id } userErrors { code field } } }",
            {"k": "retry-1\u0000"},
            user_errors=("INVALID_INPUT:input.idempotencyKey",),
        ),
        "kit/fields.IdempotencyKey does not refuse NUL: the INSERT into idempotency_keys fails "
        "and the client gets INTERNAL_SERVER_ERROR instead of an INVALID_INPUT userError",
    ),
    BugCase(
        GqlCase(
            "decimal-with-arabic-indic-digits",
            LOAN % '"not a member!"',
            {"amount": "1\u0660\u0660.\u0660\u0660"},
            codes=codes("BAD_USER_INPUT"),
        ),
        "graph/scalars._DECIMAL_TEXT uses \\d, which matches any Unicode digit: '1\\u0660\\u0660' "
        "is taken as 100 although the scalar promises plain decimal notation",
    ),
    BugCase(
        GqlCase(
            "full-name-only-invisible-characters",
            _CREATE,
            _create(name="\u200b\u202e", email="not-an-email"),
            user_errors=("INVALID_INPUT:input.email", "INVALID_INPUT:input.fullName"),
        ),
        "members.service._full_name checks blankness with str.strip(), which keeps zero-width "
        "and bidi-control characters: a name that renders blank is accepted",
    ),
]
