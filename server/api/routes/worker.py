"""The worker protocol: claim, heartbeat, complete, fail (DESIGN §5 leases)."""

from __future__ import annotations

from fastapi import APIRouter

from client.contract.results import (
    ClaimRequest,
    Job,
    JobAssignment,
    JobCompletion,
    JobFailure,
    LeaseRenewed,
    LeaseRequest,
)
from server.api.deps import DispatcherDep, SessionDep, SettingsDep
from server.services import worker as service

router = APIRouter(prefix="/worker/jobs/{job_id}", tags=["worker"])


@router.post("/claim")
def claim(
    job_id: int, body: ClaimRequest, session: SessionDep, settings: SettingsDep
) -> JobAssignment:
    """Take the job under a fresh lease; 409 if it is finished or another worker holds it."""
    return service.claim_job(
        session=session,
        job_id=job_id,
        worker=body.worker,
        lease_seconds=settings.lease_seconds,
        heartbeat_seconds=settings.heartbeat_seconds,
    )


@router.post("/heartbeat")
def heartbeat(
    job_id: int, body: LeaseRequest, session: SessionDep, settings: SettingsDep
) -> LeaseRenewed:
    """Renew the lease; 409 when it is no longer this token's (re-claimed, or cancelled)."""
    return service.heartbeat_job(
        session=session,
        job_id=job_id,
        lease_token=body.lease_token,
        lease_seconds=settings.lease_seconds,
    )


@router.post("/complete")
def complete(
    job_id: int, body: JobCompletion, session: SessionDep, dispatcher: DispatcherDep
) -> Job:
    """Finish the job (a cmc job carries its result); idempotent for the same token."""
    return service.complete_job(
        session=session, job_id=job_id, completion=body, dispatcher=dispatcher
    )


@router.post("/fail")
def fail(job_id: int, body: JobFailure, session: SessionDep, dispatcher: DispatcherDep) -> Job:
    """Give the job up: retried if transient with attempts left, else failed for good."""
    return service.fail_job(session=session, job_id=job_id, failure=body, dispatcher=dispatcher)
