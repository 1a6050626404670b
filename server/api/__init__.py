"""The HTTP layer: dependencies, error formatting and the routers of API.md."""
