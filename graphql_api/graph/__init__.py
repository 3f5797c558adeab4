"""GraphQL plumbing shared by the domains: scalars, row mapping, loaders, connections."""
