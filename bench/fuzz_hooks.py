"""schemathesis CLI hooks for ``bench/fuzz_api.py`` (loaded through ``SCHEMATHESIS_HOOKS``):
the same real-row hooks as the test suite's fuzz test, for the target the script seeded."""

from __future__ import annotations

import json
import os

import schemathesis
from tests.api.fuzzing import FuzzTarget, install_hooks
from tests.factories import Site

_target = json.loads(os.environ["CHARGEBOOK_FUZZ_TARGET"])
install_hooks(schemathesis.hook, FuzzTarget(**{**_target, "site": Site(**_target["site"])}))
