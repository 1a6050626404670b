"""Model factories, looked up by name through `worker.models.registry`."""
