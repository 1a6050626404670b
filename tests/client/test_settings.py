"""The one Settings object: embedded defaults and where the filesystem broker keeps its files."""

from __future__ import annotations

from pathlib import Path

import pytest

from client.settings import Settings


def test_embedded_defaults_live_under_home(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    assert settings.resolved_database_url == f"sqlite:///{tmp_path / 'lmclab.db'}"
    assert settings.resolved_artifact_dir == tmp_path / "artifacts"
    assert settings.broker_url == "filesystem://"


def test_every_broker_folder_is_under_home_not_the_working_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The exchange table (control_folder) routes the server's messages to the worker's queue:
    left at kombu's default it lands in each process's working dir and routing breaks."""
    monkeypatch.chdir(tmp_path)
    options = Settings(home=tmp_path / "home").celery_broker_options()
    for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
        folder = Path(str(options[key]))
        assert folder.is_dir() and folder.is_relative_to(tmp_path / "home"), key
    assert not (tmp_path / "control").exists()


def test_environment_variables_configure_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LMCLAB_DATABASE_URL", "postgresql+psycopg://u@h/db")
    monkeypatch.setenv("LMCLAB_BROKER_URL", "redis://h:6379/0")
    monkeypatch.setenv("LMCLAB_LEASE_SECONDS", "5")
    settings = Settings()
    assert settings.resolved_database_url == "postgresql+psycopg://u@h/db"
    assert settings.broker_url == "redis://h:6379/0"
    assert settings.lease_seconds == 5.0
    assert settings.celery_broker_options() == {}
