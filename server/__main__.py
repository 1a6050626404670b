"""`python -m server [--host H] [--port P]` serves the API; `python -m server migrate` upgrades.

Defaults come from Settings (LMCLAB_HOST, LMCLAB_PORT, LMCLAB_DATABASE_URL, ...).
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence

from client.settings import get_settings


def main(argv: Sequence[str] | None = None) -> int:
    settings = get_settings()
    parser = argparse.ArgumentParser(prog="python -m server", description="the lmclab server")
    parser.add_argument("--host", default=settings.host, help=f"default {settings.host}")
    parser.add_argument("--port", type=int, default=settings.port, help=f"default {settings.port}")
    parser.add_argument("--log-level", default="info")
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("serve", help="run the HTTP server (the default)")
    commands.add_parser("migrate", help="upgrade the database to the newest schema and exit")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")

    if args.command == "migrate":
        from server.db.migrate import upgrade

        upgrade(settings.resolved_database_url)
        return 0

    import uvicorn

    from server.app import create_app

    uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level=args.log_level)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
