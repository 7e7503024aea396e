"""The repositories a unit of work hands out, all on the same connection and transaction."""

from dataclasses import dataclass

from storage.broadcasts import BroadcastRepository
from storage.calls import CallRepository
from storage.conversations import ConversationRepository
from storage.deliveries import DeliveryRepository
from storage.digests import DigestRepository
from storage.events import EventRepository, RsvpRepository
from storage.idea_import import IdeaImports
from storage.idea_search import IdeaSearch
from storage.ideas import IdeaRepository
from storage.inbound import InboundRepository
from storage.leases import LeaseRepository
from storage.outbox import OutboxRepository
from storage.pending import InboundQueueRepository, PendingReplyRepository
from storage.privacy import PrivacyRepository
from storage.reminders import ReminderRepository
from storage.residents import ResidentRepository
from storage.similar import SimilarRepository
from storage.sql import Db
from storage.staff import StaffRepository
from storage.supports import SupportRepository
from storage.watch import WatchRepository


@dataclass(frozen=True, slots=True)
class Repositories:
    residents: ResidentRepository
    conversations: ConversationRepository
    ideas: IdeaRepository
    inbound: InboundRepository
    events: EventRepository
    rsvps: RsvpRepository
    outbox: OutboxRepository
    broadcasts: BroadcastRepository
    reminders: ReminderRepository
    idea_search: IdeaSearch
    calls: CallRepository
    digests: DigestRepository
    deliveries: DeliveryRepository
    privacy: PrivacyRepository
    inbound_queue: InboundQueueRepository
    pending_replies: PendingReplyRepository
    leases: LeaseRepository
    staff: StaffRepository
    watch: WatchRepository
    similar: SimilarRepository
    imports: IdeaImports
    supports: SupportRepository

    @classmethod
    def on(cls, connection: Db) -> "Repositories":
        return cls(
            residents=ResidentRepository(connection),
            conversations=ConversationRepository(connection),
            ideas=IdeaRepository(connection),
            inbound=InboundRepository(connection),
            events=EventRepository(connection),
            rsvps=RsvpRepository(connection),
            outbox=OutboxRepository(connection),
            broadcasts=BroadcastRepository(connection),
            reminders=ReminderRepository(connection),
            idea_search=IdeaSearch(connection),
            calls=CallRepository(connection),
            digests=DigestRepository(connection),
            deliveries=DeliveryRepository(connection),
            privacy=PrivacyRepository(connection),
            inbound_queue=InboundQueueRepository(connection),
            pending_replies=PendingReplyRepository(connection),
            leases=LeaseRepository(connection),
            staff=StaffRepository(connection),
            watch=WatchRepository(connection),
            similar=SimilarRepository(connection),
            imports=IdeaImports(connection),
            supports=SupportRepository(connection),
        )
