"""Business logic: keyword-only functions of a session (and what else they need).

Services return contract models and raise `server.errors` domain errors, never HTTP errors;
routes stay thin (parse, call one service, return its schema).
"""
