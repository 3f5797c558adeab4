"""API keys, roles and what each role may see and do."""
