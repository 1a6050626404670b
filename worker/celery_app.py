"""The one Celery app of the workers (DESIGN §5): JSON only, late acks, one task at a time.

The broker only carries job ids; the database (through the server) holds the graph's state and
the job leases, so a lost or duplicated message costs nothing but a redelivery.
"""

from __future__ import annotations

from celery import Celery

from client.settings import Settings


def make_celery(settings: Settings) -> Celery:
    app = Celery("lmclab", include=["worker.tasks"])
    app.conf.update(
        broker_url=settings.broker_url,
        broker_transport_options=settings.celery_broker_options(),
        broker_connection_retry_on_startup=True,
        task_serializer="json",
        accept_content=["json"],
        result_serializer="json",
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_default_queue="gpu",
        worker_hijack_root_logger=False,
    )
    return app


app = make_celery(Settings())
