"""The repositories a unit of work hands out, all on the same connection and transaction."""

from dataclasses import dataclass

import aiosqlite

from storage.conversations import ConversationRepository
from storage.ideas import IdeaRepository
from storage.inbound import InboundRepository
from storage.residents import ResidentRepository


@dataclass(frozen=True, slots=True)
class Repositories:
    residents: ResidentRepository
    conversations: ConversationRepository
    ideas: IdeaRepository
    inbound: InboundRepository

    @classmethod
    def on(cls, connection: aiosqlite.Connection) -> "Repositories":
        return cls(
            residents=ResidentRepository(connection),
            conversations=ConversationRepository(connection),
            ideas=IdeaRepository(connection),
            inbound=InboundRepository(connection),
        )
