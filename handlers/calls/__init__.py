"""Calls for ideas (convocatorias), both sides: the intake's "is it for this call?" (intake),
the staff's guided new call (staff_form), and opening, closing and awarding them (service)."""
