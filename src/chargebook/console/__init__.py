"""chargebook.console: the web console under /console (server-rendered pages; see README.md)."""
