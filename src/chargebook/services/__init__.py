"""Use cases. Each is one async function named verb_noun that opens one unit of work:
load and lock, ask ``domain/``, write, commit. Nothing else commits."""
