"""`python -m graphql_api.bench`: the same as `finance-api bench`."""

from graphql_api.bench import main

raise SystemExit(main())
