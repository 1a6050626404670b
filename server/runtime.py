"""Everything one app instance holds: settings, engine, sessions, dispatcher, artifact store.

Built by `create_app` and kept on `app.state`, so several apps (tests) live side by side.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from client.settings import Settings
from server.artifacts import ArtifactStore
from server.db.session import make_engine, make_sessionmaker
from server.dispatch import CeleryDispatcher, Dispatcher


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    dispatcher: Dispatcher
    store: ArtifactStore

    @classmethod
    def build(cls, settings: Settings) -> Runtime:
        """Nothing connects yet: the engine and the broker connect on first use."""
        engine = make_engine(settings.resolved_database_url)
        return cls(
            settings=settings,
            engine=engine,
            sessions=make_sessionmaker(engine),
            dispatcher=CeleryDispatcher(settings),
            store=ArtifactStore(settings.resolved_artifact_dir),
        )

    def close(self) -> None:
        self.dispatcher.close()
        self.engine.dispose()
