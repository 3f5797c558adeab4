"""A local stand-in for the upstream pension provider, with runtime fault injection."""

from graphql_api.sandbox.provider import FaultMode, FaultSpec, create_sandbox_app, run_sandbox

__all__ = ["FaultMode", "FaultSpec", "create_sandbox_app", "run_sandbox"]
