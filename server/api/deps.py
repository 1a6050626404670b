"""FastAPI dependencies: the app's runtime pieces, one typed alias each."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from client.settings import Settings
from server.artifacts import ArtifactStore
from server.dispatch import Dispatcher
from server.runtime import Runtime


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def get_session(runtime: RuntimeDep) -> Iterator[Session]:
    """One session per request; whatever a service did not commit is rolled back."""
    with runtime.sessions() as session:
        yield session


def get_settings(runtime: RuntimeDep) -> Settings:
    return runtime.settings


def get_dispatcher(runtime: RuntimeDep) -> Dispatcher:
    return runtime.dispatcher


def get_store(runtime: RuntimeDep) -> ArtifactStore:
    return runtime.store


SessionDep = Annotated[Session, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
DispatcherDep = Annotated[Dispatcher, Depends(get_dispatcher)]
StoreDep = Annotated[ArtifactStore, Depends(get_store)]
