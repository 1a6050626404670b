"""lmclab's worker: Celery glue (tasks, jobs) over a pure-torch core (models, data, training,
analysis).

Importing this package must stay cheap and need torch alone: the benchmark scripts run from source
on hosts with nothing but torch (DESIGN §10), so nothing here imports celery or pydantic.
"""
