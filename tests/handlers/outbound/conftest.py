"""The staff tests' dispatcher and staff member (one staff member and the team's group),
shared from tests/handlers/staff/conftest.py rather than copied."""

from tests.handlers.staff.conftest import dispatcher, staff

__all__ = ["dispatcher", "staff"]
