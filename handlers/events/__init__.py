"""The lab's events: the list and cards with RSVP buttons (and the consent an RSVP needs),
calendar files, reminders and notices, and the staff's guided new event (new_event)."""
