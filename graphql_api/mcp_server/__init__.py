"""The MCP server: the API's workflows as MCP tools, over streamable HTTP (/mcp) and stdio.

Each tool is a GraphQL document run through the same schema as /graphql (tools.py): the
policy (graphql_api/auth/policy.py), validation, idempotency, audit rows and masking are the
GraphQL ones by construction. Nothing here decides who may do what beyond naming the policy
action each tool stands for.
"""
