"""The Dagster UI for development (`barometer dev`, `make dev`) and the pages served beside it."""
