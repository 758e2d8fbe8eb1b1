"""OCPI 2.3.0 response envelope and status codes: unchanged from 2.2.1, re-exported.

(The ``v2.3.0`` tag lost the 2.2.1 errata wording about 401/403 in status_codes.asciidoc;
the codes and the envelope are the same.)
"""

from __future__ import annotations

from chargebook.ocpi.v221.envelope import Envelope, StatusCode

__all__ = ["Envelope", "StatusCode"]
