"""The one configuration object of lmclab: every knob is an `LMCLAB_*` environment variable.

Server, worker and CLI all read this; the defaults make the embedded mode (SQLite, a local
artifact directory, the filesystem broker, CPU) work with nothing set.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LMCLAB_", extra="ignore")

    home: Path = Field(
        default=Path(".lmclab"),
        description="where the embedded defaults live (database, artifacts, broker folder)",
    )
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default sqlite:///<home>/lmclab.db"
    )
    broker_url: str = Field(
        default="filesystem://", description="Celery broker; filesystem:// needs no server"
    )
    artifact_dir: Path | None = Field(default=None, description="default <home>/artifacts")
    data_dir: Path | None = Field(
        default=None, description="datasets; default: the small real subset shipped with lmclab"
    )
    download: bool = Field(default=False, description="let torchvision download missing data")
    server_url: str = Field(default="http://127.0.0.1:8000", description="where workers reach it")
    host: str = "127.0.0.1"
    port: int = 8000

    lease_seconds: float = Field(default=60.0, gt=0, description="a running job's lease")
    heartbeat_seconds: float = Field(default=10.0, gt=0, description="how often workers renew")
    reaper_seconds: float = Field(default=5.0, gt=0, description="how often leases are checked")
    max_attempts: int = Field(default=3, ge=1, description="tries of a job before it fails")

    device: str = Field(default="auto", description="auto, cpu, cuda, cuda:1, ...")
    torch_threads: int | None = Field(default=None, ge=1)
    branch_strategy: str = Field(
        default="auto", description="auto, batched or sequential branch training"
    )
    worker_name: str | None = None
    queues: str = "gpu,default"

    @cached_property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.home / 'lmclab.db').resolve()}"

    @cached_property
    def resolved_artifact_dir(self) -> Path:
        return (self.artifact_dir or self.home / "artifacts").resolve()

    @cached_property
    def broker_folder(self) -> Path:
        """The shared folder of the filesystem transport (server and workers on one machine)."""
        return (self.home / "broker").resolve()

    def celery_broker_options(self) -> dict[str, object]:
        if not self.broker_url.startswith("filesystem://"):
            return {}
        folder = self.broker_folder
        for sub in ("queue", "processed", "control"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        # Every folder under LMCLAB_HOME: the exchange table in `control` is how the server's
        # messages find the worker's queues, so it must not depend on either's working dir.
        return {
            "data_folder_in": str(folder / "queue"),
            "data_folder_out": str(folder / "queue"),
            "processed_folder": str(folder / "processed"),
            "control_folder": str(folder / "control"),
            "store_processed": False,
            "polling_interval": 0.1,
        }


def get_settings() -> Settings:
    return Settings()
