"""The lab's events: cards with RSVP buttons, calendar files, reminders and notices."""
