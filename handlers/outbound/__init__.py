"""What goes out in bulk: what each kind of outbox row says when it is sent (compose), the few
values a WhatsApp template carries (summaries), broadcasts' audiences and queuing, and the
staff's guided /difundir (broadcast_form), this family's flow."""
