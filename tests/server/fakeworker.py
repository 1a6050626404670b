"""A worker reduced to its HTTP conversation, for driving the server's job protocol in tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient
from httpx import Response

from tests.factories import make_cmc_result

API = "/api/v1"


@dataclass
class Lease:
    job_id: int
    token: str
    assignment: dict[str, Any]


class FakeWorker:
    """Claims, heartbeats, completes and fails jobs the way `worker/` does, over HTTP."""

    def __init__(self, client: TestClient, name: str = "fake-gpu-0") -> None:
        self.client = client
        self.name = name

    def post(self, job_id: int, action: str, body: dict[str, Any]) -> Response:
        return self.client.post(f"{API}/worker/jobs/{job_id}/{action}", json=body)

    def claim(self, job_id: int) -> Lease:
        response = self.post(job_id, "claim", {"worker": self.name})
        assert response.status_code == 200, response.text
        body = response.json()
        return Lease(job_id=job_id, token=body["lease_token"], assignment=body)

    def heartbeat(self, lease: Lease) -> Response:
        return self.post(lease.job_id, "heartbeat", {"lease_token": lease.token})

    def complete(self, lease: Lease, **extra: Any) -> Response:
        return self.post(lease.job_id, "complete", {"lease_token": lease.token, **extra})

    def fail(self, lease: Lease, reason: str, *, transient: bool = False) -> Response:
        return self.post(
            lease.job_id,
            "fail",
            {"lease_token": lease.token, "reason": reason, "transient": transient},
        )

    def run(self, job_id: int, **extra: Any) -> dict[str, Any]:
        """Claim and complete one job (a cmc job with a made-up but consistent result)."""
        lease = self.claim(job_id)
        if lease.assignment["job"]["kind"] == "cmc" and "cmc" not in extra:
            branches = lease.assignment["spec"]["branches"]["count"]
            samples = lease.assignment["spec"]["analyses"]["cmc"]["samples"]
            extra["cmc"] = make_cmc_result(branches=branches, samples=samples)
        response = self.complete(lease, **extra)
        assert response.status_code == 200, response.text
        job: dict[str, Any] = response.json()
        return job
