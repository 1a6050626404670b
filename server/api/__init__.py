"""The HTTP layer: dependencies, error formatting and the routers of the HTTP API (README)."""
