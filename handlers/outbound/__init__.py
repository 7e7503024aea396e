"""What goes out in bulk: what each kind of outbox row says when it is sent (compose), the few
values a WhatsApp template carries (summaries), and broadcasts' audiences and queuing."""
