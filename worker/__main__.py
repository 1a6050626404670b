"""`python -m worker`: one Celery worker process, solo pool (forking after torch has started its
thread pools can hang), consuming the queues of LMCLAB_QUEUES."""

from __future__ import annotations

import logging
import sys

from client.settings import Settings
from worker.runtime import configure_threads


def main(argv: list[str] | None = None) -> None:
    settings = Settings()
    configure_threads(settings.torch_threads)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request is noise
    from worker.celery_app import app
    from worker.runner import worker_name

    args = [
        "worker",
        "--pool=solo",
        "--concurrency=1",
        "--without-gossip",
        "--without-mingle",
        f"--queues={settings.queues}",
        f"--hostname={worker_name(settings).replace(':', '-')}@%h",
        "--loglevel=INFO",
        *(argv if argv is not None else sys.argv[1:]),
    ]
    app.worker_main(args)


if __name__ == "__main__":
    main()
