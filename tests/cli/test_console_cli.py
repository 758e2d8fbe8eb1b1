"""`chargebook operators create` and `chargebook clients invite-user`, as real processes."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys

from chargebook.services import console_logins, console_users
from tests.cli.test_cli import chargebook
from tests.factories import make_client, with_db


def test_operator_with_a_generated_one_time_password(database_url: str) -> None:
    suffix = secrets.token_hex(4)
    made = subprocess.run(
        [
            sys.executable,
            "-m",
            "chargebook.cli",
            "operators",
            "create",
            f"Ops-{suffix}@Example.com",
        ],
        env={**os.environ, "CHARGEBOOK_DATABASE_URL": database_url},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert made.returncode == 0, made.stderr
    password = re.search(r"password:\s+(\S+)", made.stdout).group(1)  # type: ignore[union-attr]
    assert "/console/login" in made.stdout and f"ops-{suffix}@example.com" in made.stdout
    user = with_db(
        database_url,
        lambda db: console_logins.login(
            db, f"ops-{suffix}@example.com", password, None, console_logins.LoginLimits()
        ),
    )
    assert user.must_change_password and user.role == "operator"
    again = chargebook("operators", "create", f"ops-{suffix}@example.com", url=database_url)
    assert again.returncode == 2 and "already has a console account" in again.stderr


def test_operator_with_a_password_from_stdin(database_url: str) -> None:
    suffix = secrets.token_hex(4)
    made = subprocess.run(
        [
            sys.executable,
            "-m",
            "chargebook.cli",
            "operators",
            "create",
            f"night-{suffix}@example.com",
            "--password-stdin",
        ],
        input="a piped-in password\n",
        env={**os.environ, "CHARGEBOOK_DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert made.returncode == 0, made.stderr
    assert "password:" not in made.stdout  # nothing to show: the operator chose it
    user = with_db(
        database_url,
        lambda db: console_logins.login(
            db,
            f"night-{suffix}@example.com",
            "a piped-in password",
            None,
            console_logins.LoginLimits(),
        ),
    )
    assert not user.must_change_password
    short = subprocess.run(
        [
            sys.executable,
            "-m",
            "chargebook.cli",
            "operators",
            "create",
            "x@example.com",
            "--password-stdin",
        ],
        input="short\n",
        env={**os.environ, "CHARGEBOOK_DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (
        short.returncode == 2
        and "12 characters" in short.stderr
        and "Traceback" not in short.stderr
    )


def test_invite_user_prints_a_one_time_link(database_url: str) -> None:
    suffix = secrets.token_hex(4)
    client_id, _ = make_client(database_url, "cli invited")
    r = chargebook(
        "clients", "invite-user", client_id, f"fleet-{suffix}@example.com", url=database_url
    )
    assert r.returncode == 0, r.stderr
    token = re.search(r"invitation: http://\S+/console/invite/(\S+)", r.stdout).group(1)  # type: ignore[union-attr]
    invite = with_db(database_url, lambda db: console_users.invitation(db, token))
    assert invite.email == f"fleet-{suffix}@example.com" and invite.client_name == "cli invited"
    missing = chargebook("clients", "invite-user", "cli_nope", "a@example.com", url=database_url)
    assert missing.returncode == 2 and "Client not found" in missing.stderr
