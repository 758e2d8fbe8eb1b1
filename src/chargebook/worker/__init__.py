"""Background loops. Level-triggered: each pass derives what is due from the database, claims
rows, acts, records the outcome. A crash loses nothing: the next pass finds the same work."""
