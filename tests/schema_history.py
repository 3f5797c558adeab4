"""The base revision of schema.graphql that the breaking-change check compares against.

The base is, in order:

1. `FINANCE_API_SCHEMA_BASE`, a git ref, when set (a CI job for a pull request sets it to the
   target branch); an unresolvable ref is an error, not a skip.
2. The merge-base with the current branch's upstream, when there is one and it is not HEAD
   itself: everything this branch changed is checked at once.
3. Otherwise (a fresh clone of main, as CI has): HEAD when the working tree's schema.graphql
   differs from HEAD's (an uncommitted contract change), else the parent of the newest commit
   that changed schema.graphql. So the newest contract change is always checked against the
   contract before it, until a later change replaces it as the newest.

`None` with a reason means the history cannot say: git missing, not a checkout, a shallow
clone without the parent commit, or schema.graphql has no earlier version.
"""

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

BASE_ENV = "FINANCE_API_SCHEMA_BASE"
CONTRACT_NAME = "schema.graphql"


@dataclass(frozen=True)
class SchemaBase:
    """The revision chosen as base, why it was chosen, and its schema.graphql (SDL)."""

    revision: str
    rule: str
    sdl: str


class SchemaHistoryError(Exception):
    """Git or the history needed to find a base is not there (the check skips)."""


def _git(root: Path, *args: str) -> str | None:
    """stdout of `git -C root args`, stripped, or None when git reports failure."""
    done = subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, text=True, check=False
    )
    return done.stdout.strip() if done.returncode == 0 else None


def _merge_base_with_upstream(root: Path, head: str) -> str | None:
    if _git(root, "rev-parse", "--abbrev-ref", "--symbolic-full-name", "@{upstream}") is None:
        return None
    merge_base = _git(root, "merge-base", "HEAD", "@{upstream}")
    return merge_base if merge_base and merge_base != head else None


def _working_tree_changed(root: Path) -> bool:
    return _git(root, "diff", "--quiet", "HEAD", "--", CONTRACT_NAME) is None


def _before_newest_change(root: Path) -> str:
    newest = _git(root, "log", "-1", "--format=%H", "--", CONTRACT_NAME)
    if not newest:
        raise SchemaHistoryError(f"no commit has {CONTRACT_NAME}")
    parent = _git(root, "rev-parse", "--verify", "--quiet", f"{newest}^")
    if parent is None:
        if _git(root, "rev-parse", "--is-shallow-repository") == "true":
            raise SchemaHistoryError("shallow clone: `git fetch --unshallow` to check")
        raise SchemaHistoryError(f"{CONTRACT_NAME} has no earlier version ({newest[:10]})")
    return parent


def _choose(root: Path, head: str) -> tuple[str, str]:
    explicit = os.environ.get(BASE_ENV)
    if explicit:
        revision = _git(root, "rev-parse", "--verify", "--quiet", f"{explicit}^{{commit}}")
        if revision is None:
            raise ValueError(f"{BASE_ENV}={explicit!r} is not a commit in {root}")
        return revision, f"{BASE_ENV}={explicit}"
    merge_base = _merge_base_with_upstream(root, head)
    if merge_base is not None:
        return merge_base, "merge-base with the upstream branch"
    if _working_tree_changed(root):
        return head, f"HEAD ({CONTRACT_NAME} has uncommitted changes)"
    return _before_newest_change(root), f"parent of the newest commit changing {CONTRACT_NAME}"


def schema_base(root: Path) -> SchemaBase:
    """The base revision for the checkout at `root` and its schema.graphql."""
    if shutil.which("git") is None:
        raise SchemaHistoryError("git is not installed")
    head = _git(root, "rev-parse", "--verify", "--quiet", "HEAD")
    if head is None:
        raise SchemaHistoryError(f"{root} is not a git checkout with commits")
    revision, rule = _choose(root, head)
    sdl = _git(root, "show", f"{revision}:./{CONTRACT_NAME}")
    if sdl is None:
        raise SchemaHistoryError(f"{CONTRACT_NAME} does not exist at {revision[:10]} ({rule})")
    return SchemaBase(revision=revision, rule=rule, sdl=sdl + "\n")
