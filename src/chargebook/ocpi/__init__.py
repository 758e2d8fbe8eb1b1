"""OCPI protocol adapter: models per OCPI version (``v221``, ``v230``) and, beside them,
the shared transport, pagination, errors, outbound client and inbound routers.

See README.md in this folder for what must hold here and how to add a module.
"""
