"""Exports of the ideas (CSV, XLSX, GeoJSON, Open311) and the public catalogue. Each writes
from a stream of ideas, so a million never sit in memory at once. /exportar sends one in the
chat (chat), this family's flow."""
