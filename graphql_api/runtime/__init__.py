"""Running the API: the app factory, the `finance-api` CLI, uvicorn serving, the embedded
PostgreSQL and its lifecycle, migrations, database roles and where bundled files live."""
