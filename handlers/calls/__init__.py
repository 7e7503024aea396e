"""Calls for ideas (convocatorias), both sides: the intake's "is it for this call?" (intake),
the staff's guided new call (staff_form), and opening, closing and awarding them (service).
The calls' staff buttons ("st:cv:3", staff_form.BUTTONS) are answered through
staff/buttons.py, with every "st" button, the caller checked first."""
