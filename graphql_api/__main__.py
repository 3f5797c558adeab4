from graphql_api.runtime.cli import main

raise SystemExit(main())
