"""Compiled reads: a whole read operation as ONE SQL statement whose JSON PostgreSQL builds.

A validated query becomes a statement selecting the complete `data` object as JSON text
(json_build_object / json_agg over correlated subqueries, with per-parent LIMITs on the
newest-first indexes); the text goes into the HTTP body without being parsed in Python.
What each field compiles to comes from its declared kind (graphql_api/graph/declare.py), so
the SQL and the resolvers describe the same API from one declaration.

Anything not covered (mutations, `modelPerformance`, introspection, an argument the resolver
path would refuse, a limit it would enforce) falls back to the resolver path, which answers
exactly as before: fallback, never failure. Modules:

- document.py  parse + validate once per (query, operation), the argument slots to bind
- arguments.py what each argument means (page sizes, cursors, ids, filters), checked first
- sql.py       the statement builder: aliases, bound parameters, member scoping
- objects.py   one object's JSON from its fields' kinds: columns, relations, computed values
- pages.py     connections: keyset pages, edges, pageInfo, totalCount
- roots.py     the root fields (member, members, agentContext, node, listings)
- listings.py  the root listings' filters as SQL
- plans.py     per request: checks, then one statement text per (query, operation, role,
               argument shapes, directives), its values bound
- execute.py   running the statement on one pooled connection, JSON text back
- http.py      the innermost ASGI middleware that answers, and `extensions` (requestId,
               sqlStatements, plan)
"""
