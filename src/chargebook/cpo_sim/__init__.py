"""A CPO simulator: a real OCPI 2.2.1 (and optionally 2.3.0 + Bookings) CPO with its own store
and a generated German catalogue.

It talks to chargebook only over HTTP. Entry points:

* :func:`create_app` — the ASGI app for a :class:`SimConfig`;
* :class:`SimulatorServer` — the app served in a background thread (demo, tests);
* ``chargebook cpo-sim`` — the command line (``chargebook.cli.cpo_sim``).

See ``docs/cpo-simulator.md``.
"""

from __future__ import annotations

from chargebook.cpo_sim.app import create_app
from chargebook.cpo_sim.config import BookingRules, CommandRules, DriverRules, Faults, SimConfig
from chargebook.cpo_sim.server import SimulatorServer, ThreadedServer
from chargebook.cpo_sim.simulator import Simulator

__all__ = [
    "BookingRules",
    "CommandRules",
    "DriverRules",
    "Faults",
    "SimConfig",
    "Simulator",
    "SimulatorServer",
    "ThreadedServer",
    "create_app",
]
