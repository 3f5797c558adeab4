"""finance-graphql: a GraphQL API over one shared finance data model in PostgreSQL."""
