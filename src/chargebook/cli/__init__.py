"""The `chargebook` operator command."""
