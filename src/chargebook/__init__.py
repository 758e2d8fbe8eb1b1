"""chargebook: an eMSP booking platform. Book a specific EVSE for a time window across CPOs."""

__version__ = "0.1.0"
