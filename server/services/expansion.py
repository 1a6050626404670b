"""A spec -> the rows of its experiment: runs, jobs (the task graph) and empty hulls.

Every step count comes from ExperimentSpec's own methods and every seed from
`client.contract.seeds`, so server and worker can never disagree on them.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from client.contract import seeds
from client.contract.spec import ExperimentSpec
from server.db.models import ExperimentRecord, HullRecord, JobRecord, RunRecord


def expand_spec(*, session: Session, spec: ExperimentSpec, max_attempts: int) -> ExperimentRecord:
    """Add the experiment and all its rows to `session` (flushed for ids, not committed).

    Per trunk r: one trunk run and a trunk job. Per (r, split k): P branch runs, a branches job
    after trunk(r), a cmc job after branches(r, k), and an empty hull.
    """
    experiment = ExperimentRecord(
        name=spec.name, task=spec.task, spec=spec.model_dump(mode="json"), cancelled=False
    )
    session.add(experiment)
    session.flush()
    eid = experiment.id

    def job(kind: str, trunk: int, split_step: int | None, after: list[int]) -> JobRecord:
        record = JobRecord(
            experiment_id=eid,
            kind=kind,
            trunk=trunk,
            split_step=split_step,
            status="pending",
            attempts=0,
            max_attempts=max_attempts,
            depends_on=after,
            info={},
        )
        session.add(record)
        return record

    splits = list(zip(spec.splits.epochs, spec.split_steps(), strict=True))
    trunk_jobs: list[JobRecord] = []
    for r in range(spec.trunks):
        session.add(
            RunRecord(
                experiment_id=eid,
                kind="trunk",
                trunk=r,
                init_seed=seeds.trunk_init_seed(spec.seed, r),
                data_seed=seeds.trunk_data_seed(spec.seed, r),
            )
        )
        for epoch, step in splits:
            session.add(HullRecord(experiment_id=eid, trunk=r, split_step=step, split_epoch=epoch))
            for i in range(spec.branches.count):
                session.add(
                    RunRecord(
                        experiment_id=eid,
                        kind="branch",
                        trunk=r,
                        split_step=step,
                        branch=i,
                        data_seed=seeds.branch_data_seed(spec.seed, r, step, i),
                    )
                )
        trunk_jobs.append(job("trunk", r, None, []))
    session.flush()

    branch_jobs = [
        (job("branches", r, step, [trunk_jobs[r].id]), r, step)
        for r in range(spec.trunks)
        for _, step in splits
    ]
    session.flush()
    for branches, r, step in branch_jobs:
        job("cmc", r, step, [branches.id])
    session.flush()
    return experiment
