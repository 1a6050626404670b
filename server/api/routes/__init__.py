"""One router per resource of API.md; each route parses, calls one service, returns a schema."""
