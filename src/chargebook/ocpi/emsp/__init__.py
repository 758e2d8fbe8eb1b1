"""Our OCPI 2.2.1 endpoints as the eMSP: routers named after the OCPI modules they serve."""
