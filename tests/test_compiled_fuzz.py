"""Generated queries over the whole read schema (hypothesis-graphql), each asked as every role
of both paths, compiled and resolvers-only: identical `data` and `errors` every time.

Deterministic: derandomized Hypothesis (a fixed seed), no example database, no shrinking, a
fixed count (COMPILED_FUZZ_EXAMPLES, default 500: each query is asked as all four roles, so
that is 500 per role). Generated arguments are steered (`_Steer`) towards values that find
rows: page sizes that are valid (and sometimes not), real member numbers and global ids,
filters that match; otherwise nearly every query would be answered by a "not found" or an
argument error. Run alone: `pytest -m fuzz tests/test_compiled_fuzz.py -s` (prints the share
of queries each role had compiled).
"""

import os
import random
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Final

import graphql
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import queries

from graphql_api.models import Role
from graphql_api.schema import schema
from tests.compiled_oracle import Oracle, serve_oracle
from tests.fuzz_strategies import datetime_literals
from tests.gql_helpers import global_id

EXAMPLES: Final = int(os.environ.get("COMPILED_FUZZ_EXAMPLES", "500"))
# The share of generated queries each role must have answered on the compiled path, so the
# comparison cannot pass by sending everything to the resolvers.
MIN_COMPILED_SHARE: Final = {Role.ADMIN: 0.5, Role.ADVISOR: 0.5, Role.AGENT: 0.4, Role.MEMBER: 0.5}

PAGE_SIZES: Final = (1, 2, 3, 5, 20, 100, 1, 2, 0, 101)
MEMBER_NUMBERS: Final = ("M-100001", "M-100010", "M-100025", "M-100050", "M-999999", "")
_ROW_TYPES: Final = (
    "Member", "PensionAccount", "Portfolio", "Recommendation",
    "LoanApplication", "Prediction", "Feedback", "AuditLog",
)  # fmt: skip
NODE_IDS: Final = (
    *(global_id(type_name, row_id) for type_name in _ROW_TYPES for row_id in (1, 10, 33)),
    global_id("Member", 999_999),
    global_id("PageInfo", 1),
    "not-an-id",
)
TEXTS: Final = {
    "search": ("", "m-1000", "ta", "  ", "%", "_", "M-10001"),
    "modelVersion": ("vader-3.3.2", "x"),
    "action": ("loan.applied", "member.synced", "x"),
}


class _Steer(graphql.Visitor):
    """Rewrites generated argument values towards ones that find rows."""

    def __init__(self, rng: random.Random) -> None:
        super().__init__()
        self.rng = rng

    def enter_argument(self, node: graphql.ArgumentNode, *_: Any) -> Any:
        return self._steer(node, graphql.ArgumentNode)

    def enter_object_field(self, node: graphql.ObjectFieldNode, *_: Any) -> Any:
        return self._steer(node, graphql.ObjectFieldNode)

    def _steer(self, node: Any, kind: type[Any]) -> Any:
        value = self._value(node.name.value)
        if value is None:
            return None
        return kind(name=node.name, value=value)

    def _value(self, name: str) -> graphql.ValueNode | None:
        rng = self.rng
        if name == "first":
            return graphql.IntValueNode(value=str(rng.choice(PAGE_SIZES)))
        if name == "after" and rng.random() < 0.9:
            return graphql.NullValueNode()
        if name == "memberNumber":
            return graphql.StringValueNode(value=rng.choice(MEMBER_NUMBERS))
        if name == "id":
            return graphql.StringValueNode(value=rng.choice(NODE_IDS))
        if name in TEXTS and rng.random() < 0.8:
            return graphql.StringValueNode(value=rng.choice(TEXTS[name]))
        return None


def steered(document: graphql.DocumentNode, rng: random.Random) -> str:
    return graphql.print_ast(graphql.visit(document, _Steer(rng)))


@pytest.fixture(scope="module")
def oracle(postgres_server_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Oracle]:
    yield from serve_oracle(postgres_server_url, tmp_path_factory.mktemp("oracle"))


@pytest.mark.fuzz
def test_generated_queries_agree_on_both_paths_for_every_role(oracle: Oracle) -> None:
    plans: Counter[tuple[Role, str | None]] = Counter()
    asked: list[int] = []

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        phases=[Phase.generate],
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(
        document=queries(
            schema._schema,
            custom_scalars={"DateTime": datetime_literals()},
            print_ast=lambda document: document,
            allow_x00=False,
        ),
        rng=st.randoms(use_true_random=False),
    )
    def agree(document: graphql.DocumentNode, rng: random.Random) -> None:
        query = steered(document, rng)
        # The roles' requests overlap: both servers and PostgreSQL then share the CPUs.
        answers = list(pool.map(lambda role: oracle.both(role, query), Role))
        for role, (compiled, resolvers) in zip(Role, answers, strict=True):
            assert compiled.status == resolvers.status, (role, query)
            assert compiled.comparable() == resolvers.comparable(), (role, query)
            plans[(role, compiled.plan)] += 1
        asked.append(1)

    with ThreadPoolExecutor(max_workers=len(Role)) as pool:
        agree()
    print({f"{role.value}/{plan}": count for (role, plan), count in sorted(plans.items())})
    assert len(asked) >= EXAMPLES
    if len(asked) >= 200:  # Hypothesis starts with the simplest queries: judge a full run
        for role, share in MIN_COMPILED_SHARE.items():
            assert plans[(role, "compiled")] >= share * len(asked), (role, plans)
