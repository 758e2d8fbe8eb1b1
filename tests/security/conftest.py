"""Attack tests borrow the OCPI tests' registered CPO."""

from tests.ocpi_api.conftest import cpo  # noqa: F401 - a fixture, used by name
