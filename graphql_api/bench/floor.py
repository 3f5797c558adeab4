"""The floor: what serving a scenario costs when PostgreSQL builds the whole response.

A bare ASGI app (no framework) over an asyncpg pool. Each scenario is ONE hand-written SQL
statement that returns the complete response document ({"data": ...}) as JSON text, in the
API's formats: money and scores as NUMERIC text (scale kept, like the Decimal scalar), global
ids as base64 of "Type:id" (strawberry relay), timestamps as Python's isoformat in UTC.
The bench asserts, before measuring, that both targets return equal documents.

Run by the bench as `uvicorn graphql_api.bench.floor:create_app --factory` with DATABASE_URL
and FINANCE_BENCH_TOOLING_HINT in the environment. Not part of the product API.
"""

import os
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import asyncpg  # type: ignore[import-untyped, unused-ignore]
import orjson

from graphql_api.kit.formats import datetime_sql, decimal_sql, global_id_sql, json_decimal_sql

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

POOL_SIZE = 10  # the API's default pool_size

# The API's value formats, in SQL (graphql_api/kit/formats.py pairs each with its Python form).
_iso = datetime_sql
_gid = global_id_sql
_num = decimal_sql
# Enum columns print as stored: their values equal the GraphQL names (formats.enum_sql is the
# identity for them); importing the enum classes would load every model into the floor.


_RECOMMENDATION = f"""json_build_object(
    'id', {_gid("Recommendation", "r.id")}, 'modelName', r.model_name,
    'rationale', r.rationale, 'createdAt', {_iso("r.created_at")},
    'lines', (SELECT coalesce(json_agg(json_build_object(
                  'assetClass', line.item->>'assetClass',
                  'weight', {json_decimal_sql("line.item->>'weight'")})
                  ORDER BY line.position), '[]')
              FROM jsonb_array_elements(r.allocation) WITH ORDINALITY AS line(item, position)))"""

_PORTFOLIO_FIELDS = f"""
    'id', {_gid("Portfolio", "p.id")}, 'riskProfile', p.risk_profile,
    'amountUsd', {_num("p.amount_usd")}, 'status', p.status,
    'createdAt', {_iso("p.created_at")}, 'updatedAt', {_iso("p.updated_at")}"""

_LATEST_RECOMMENDATION = f"""(SELECT {_RECOMMENDATION}
    FROM recommendations r WHERE r.portfolio_id = p.id
    ORDER BY r.created_at DESC, r.id DESC LIMIT 1)"""

_RECOMMENDATIONS = f"""(SELECT coalesce(json_agg({_RECOMMENDATION}
        ORDER BY r.created_at DESC, r.id DESC), '[]')
    FROM (SELECT * FROM recommendations WHERE portfolio_id = p.id
          ORDER BY created_at DESC, id DESC LIMIT 50) r)"""


def _portfolios(extra_field: str, extra_value: str) -> str:
    return f"""CROSS JOIN LATERAL (
    SELECT coalesce(json_agg(json_build_object('node', json_build_object({_PORTFOLIO_FIELDS},
               '{extra_field}', {extra_value}))
           ORDER BY p.created_at DESC, p.id DESC), '[]') AS edges
    FROM (SELECT * FROM portfolios WHERE member_id = m.id
          ORDER BY created_at DESC, id DESC LIMIT 5) p) portfolios"""


# The loans page also yields the latest application, which the lending assessment reads.
_LOANS = f"""CROSS JOIN LATERAL (
    SELECT coalesce(json_agg(json_build_object('node', json_build_object(
               'id', {_gid("LoanApplication", "l.id")}, 'amount', {_num("l.amount")},
               'income', {_num("l.income")}, 'employmentYears', l.employment_years,
               'riskScore', {_num("l.risk_score")}, 'decision', l.decision,
               'scoringModelVersion', l.scoring_model_version,
               'createdAt', {_iso("l.created_at")}))
           ORDER BY l.created_at DESC, l.id DESC), '[]') AS edges,
           (array_agg(l.decision ORDER BY l.created_at DESC, l.id DESC))[1] AS latest_decision,
           (array_agg(l.risk_score ORDER BY l.created_at DESC, l.id DESC))[1] AS latest_score
    FROM (SELECT * FROM loan_applications WHERE member_id = m.id
          ORDER BY created_at DESC, id DESC LIMIT 5) l) loans"""

# graphql_api/lending/assessment.py, by hand.
_ASSESSMENT = """CASE
    WHEN loans.latest_decision IS NULL THEN json_build_object('action', 'REQUEST_MORE_DATA',
        'reason', 'No loan applications on record for this member.')
    WHEN loans.latest_decision = 'REVIEW' THEN json_build_object('action', 'MANUAL_REVIEW',
        'reason', 'The latest application (risk score ' || loans.latest_score::text
                  || ') is under review.')
    ELSE json_build_object('action', 'AUTO_PROCESS',
        'reason', 'The latest application was ' || lower(loans.latest_decision)
                  || '; history is acceptable.')
END"""

_PREDICTIONS = f"""CROSS JOIN LATERAL (
    SELECT coalesce(json_agg(json_build_object('node', json_build_object(
               'id', {_gid("Prediction", "pr.id")}, 'text', pr.text, 'sentiment', pr.sentiment,
               'confidence', {_num("pr.confidence")}, 'modelVersion', pr.model_version,
               'createdAt', {_iso("pr.created_at")},
               'feedback', (SELECT coalesce(json_agg(json_build_object(
                                'id', {_gid("Feedback", "f.id")}, 'isCorrect', f.is_correct,
                                'comment', f.comment, 'createdAt', {_iso("f.created_at")})
                            ORDER BY f.created_at, f.id), '[]')
                            FROM (SELECT * FROM feedback WHERE prediction_id = pr.id
                                  ORDER BY created_at, id LIMIT 100) f)))
           ORDER BY pr.created_at DESC, pr.id DESC), '[]') AS edges
    FROM (SELECT * FROM predictions WHERE member_id = m.id
          ORDER BY created_at DESC, id DESC LIMIT 5) pr) predictions"""

_AUDIT_LOGS = f"""CROSS JOIN LATERAL (
    SELECT coalesce(json_agg(json_build_object('node', json_build_object(
               'id', {_gid("AuditLog", "a.id")}, 'requestId', a.request_id, 'actor', a.actor,
               'action', a.action, 'entityType', a.entity_type, 'entityId', a.entity_id,
               'payload', a.payload, 'createdAt', {_iso("a.created_at")}))
           ORDER BY a.created_at DESC, a.id DESC), '[]') AS edges
    FROM (SELECT * FROM audit_logs WHERE member_id = m.id
          ORDER BY created_at DESC, id DESC LIMIT 5) a) audit"""

_MEMBER_FIELDS = f"""
    'id', {_gid("Member", "m.id")}, 'memberNumber', m.member_number,
    'fullName', m.full_name, 'email', m.email, 'status', m.status,
    'createdAt', {_iso("m.created_at")}, 'updatedAt', {_iso("m.updated_at")}"""

_PENSION_ACCOUNT = f"""(SELECT json_build_object(
        'id', {_gid("PensionAccount", "pa.id")},
        'contributionBalance', {_num("pa.contribution_balance")}, 'currency', pa.currency,
        'lastSyncedAt', {_iso("pa.last_synced_at")},
        'createdAt', {_iso("pa.created_at")}, 'updatedAt', {_iso("pa.updated_at")})
    FROM pension_accounts pa WHERE pa.member_id = m.id)"""

# $1: member number, $2: the tooling hint.
AGENT_CONTEXT_SQL = f"""
SELECT json_build_object('data', json_build_object('agentContext', (
    SELECT json_build_object(
        'toolingHint', $2::text,
        'lendingAssessment', {_ASSESSMENT},
        'member', json_build_object({_MEMBER_FIELDS},
            'pensionAccount', {_PENSION_ACCOUNT},
            'loanApplications', json_build_object('edges', loans.edges),
            'portfolios', json_build_object('edges', portfolios.edges),
            'predictions', json_build_object('edges', predictions.edges)))
    FROM members m
    {_LOANS}
    {_portfolios("latestRecommendation", _LATEST_RECOMMENDATION)}
    {_PREDICTIONS}
    WHERE m.member_number = $1::text)))::text
"""

MEMBERS_SQL = f"""
SELECT json_build_object('data', json_build_object('members', json_build_object('edges', (
    SELECT coalesce(json_agg(json_build_object('node', json_build_object({_MEMBER_FIELDS},
               'lendingAssessment', {_ASSESSMENT},
               'loanApplications', json_build_object('edges', loans.edges),
               'portfolios', json_build_object('edges', portfolios.edges),
               'predictions', json_build_object('edges', predictions.edges),
               'auditLogs', json_build_object('edges', audit.edges)))
           ORDER BY m.member_number), '[]')
    FROM (SELECT * FROM members ORDER BY member_number LIMIT 100) m
    {_LOANS}
    {_portfolios("recommendations", _RECOMMENDATIONS)}
    {_PREDICTIONS}
    {_AUDIT_LOGS}))))::text
"""


class FloorApp:
    """POST /graphql with the bench's bodies (dispatched on operationName); GET /healthz."""

    def __init__(self, database_url: str, tooling_hint: str) -> None:
        self._database_url = database_url
        self._tooling_hint = tooling_hint
        self._pool: Any = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            await self._http(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self._pool = await asyncpg.create_pool(
                    self._database_url,
                    min_size=2,
                    max_size=POOL_SIZE,
                    server_settings={"application_name": "finance-bench-floor", "jit": "off"},
                )
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self._pool is not None:
                    await self._pool.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["path"] == "/healthz":
            await _respond(send, 200, b'{"status":"ok"}')
            return
        if scope["path"] != "/graphql" or scope["method"] != "POST":
            await _respond(send, 404, b'{"errors":[{"message":"not found"}]}')
            return
        body = await _read_body(receive)
        try:
            request = orjson.loads(body)
            document = await self._execute(request["operationName"], request.get("variables"))
        except (orjson.JSONDecodeError, KeyError, TypeError) as error:
            await _respond(send, 400, orjson.dumps({"errors": [{"message": repr(error)}]}))
            return
        except asyncpg.PostgresError as error:
            await _respond(send, 500, orjson.dumps({"errors": [{"message": str(error)}]}))
            return
        await _respond(send, 200, document.encode())

    async def _execute(self, operation: str, variables: dict[str, Any] | None) -> str:
        if operation == "AgentContext":
            member_number = (variables or {})["memberNumber"]
            document: str = await self._pool.fetchval(
                AGENT_CONTEXT_SQL, member_number, self._tooling_hint
            )
        elif operation == "MembersPage":
            document = await self._pool.fetchval(MEMBERS_SQL)
        else:
            raise KeyError(f"unknown operation {operation!r}")
        return document


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _respond(send: Send, status: int, body: bytes) -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def create_app() -> FloorApp:
    database_url = os.environ["DATABASE_URL"]
    return FloorApp(database_url, os.environ.get("FINANCE_BENCH_TOOLING_HINT", ""))
