"""One router per resource of the HTTP API; a route parses, calls one service, returns a schema."""
