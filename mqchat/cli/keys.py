"""``mqchat keys``: this device's end-to-end encryption keys; ``mqchat keys verify
PEER [--mark]``: the safety number to compare with PEER out of band (the same on
both sides), and marking PEER verified once they match. It asks only on a terminal;
elsewhere only ``--mark`` marks. Every failure is one line, exit 1."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping

from mqchat.cli.base import EXIT_FAILED, EXIT_OK, Prepare, Prepared, UsageError, stdout_gone
from mqchat.cli.connect import (
    add_chat_options,
    add_connection_security_options,
    command_settings,
    warn_if_insecure,
)
from mqchat.config.settings import Settings
from mqchat.core.names import InvalidUserName, validate_user_name
from mqchat.core.text import display_safe

__all__ = ["KEYS_COMMANDS", "add_keys_command", "fingerprint"]


def add_keys_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    keys = commands.add_parser(
        "keys",
        help="your end-to-end encryption keys; `verify PEER` for the safety number",
        description="This data dir's device keys (made on first use, kept 0600 beside "
        "its history). `verify PEER` prints the safety number of your keys and PEER's "
        "as the broker has them: read it to PEER over a channel you trust (in person, "
        "a call); when both show the same, mark PEER verified (--mark, or answer y).",
    )
    keys.add_argument("action", nargs="?", choices=("verify",), metavar="verify")
    keys.add_argument("peer", nargs="?", metavar="PEER", help="the user to compare with")
    keys.add_argument("--mark", action="store_true", help="mark PEER verified, without asking")
    keys.add_argument("--json", action="store_true", help="one JSON object")
    add_chat_options(keys)
    add_connection_security_options(keys)


def fingerprint(raw: bytes) -> str:
    """A public key as people read it aloud: hex in groups of four."""
    text = raw.hex()
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def _keys(args: argparse.Namespace, environ: Mapping[str, str]) -> Prepared:
    settings = command_settings(args, environ)
    if args.action != "verify":
        return Prepared(lambda: _mine(settings, as_json=args.json), settings)
    if args.peer is None:
        raise UsageError("name the peer: mqchat keys verify PEER")
    try:
        peer = validate_user_name(args.peer, what="peer name")
    except InvalidUserName as exc:
        raise UsageError(str(exc)) from None
    if peer == settings.user:
        raise UsageError("verify a peer, not yourself: mqchat keys shows your own keys")
    return Prepared(lambda: _verify(settings, peer, mark=args.mark, as_json=args.json), settings)


def _fail(line: str) -> int:
    print(f"mqchat: {display_safe(line)}", file=sys.stderr)
    return EXIT_FAILED


def _mine(settings: Settings, *, as_json: bool) -> int:
    from mqchat.crypto.identity import IdentityFileError
    from mqchat.store import StoreError
    from mqchat.tools.keys import mine

    try:
        me = mine(settings)
    except (StoreError, IdentityFileError) as exc:
        return _fail(str(exc))
    try:
        if as_json:
            obj = {
                "user": me.user,
                "device": me.device,
                "ed25519": me.public.signing.hex(),
                "x25519": me.public.agreement.hex(),
                "file": me.path,
            }
            print(json.dumps(obj))
        else:
            print(f"{me.user}, device {me.device} (this data dir)")
            print(f"  signing key (Ed25519)    {fingerprint(me.public.signing)}")
            print(f"  agreement key (X25519)   {fingerprint(me.public.agreement)}")
            print(f"  kept in {display_safe(me.path)} (only you may read it)")
            print("Compare safety numbers with a friend: mqchat keys verify PEER")
        sys.stdout.flush()
    except BrokenPipeError:
        return stdout_gone()
    return EXIT_OK


def _verify(settings: Settings, peer: str, *, mark: bool, as_json: bool) -> int:
    from mqchat.crypto.identity import IdentityFileError
    from mqchat.mqtt.errors import LinkError
    from mqchat.store import StoreError
    from mqchat.tools.keys import compare, mark_verified

    warn_if_insecure(settings)
    try:
        found = compare(settings, peer)
    except (StoreError, IdentityFileError) as exc:
        return _fail(str(exc))
    except LinkError as exc:
        return _fail(exc.reason)
    if not found.theirs:
        return _fail(f"{peer} has published no keys on {settings.broker.label}")
    groups = found.number.split()
    try:
        if as_json:
            obj = {
                "peer": peer,
                "safety_number": found.number,
                "devices": sorted(found.theirs),
                "verified": found.verified,
                "changed": found.differs,
            }
            print(json.dumps(obj))
        else:
            print(f"Safety number of {settings.user} and {peer}:")
            for row in range(3):
                print("    " + "  ".join(groups[row * 4 : row * 4 + 4]))
            devices = ", ".join(sorted(found.theirs))
            print(f"{peer}'s devices: {devices}")
            if found.differs:
                print(
                    f"⚠ these are not the keys this device trusts for {peer}: "
                    "they changed since you last talked"
                )
            if found.verified:
                print(f"✓ {peer} is verified")
        sys.stdout.flush()
    except BrokenPipeError:
        return stdout_gone()
    if found.verified:
        return EXIT_OK
    if not mark and sys.stdin.isatty() and not as_json:
        answer = input(f"Does {peer} see the same number? Mark {peer} verified [y/N] ")
        mark = answer.strip().lower() in ("y", "yes")
    if mark:
        try:
            mark_verified(settings, found)
        except StoreError as exc:
            return _fail(str(exc))
        print(f"✓ marked {peer} verified")
    elif not sys.stdin.isatty() and not as_json:
        print(f"(not marked: `mqchat keys verify {peer} --mark` marks {peer} verified)")
    return EXIT_OK


KEYS_COMMANDS: dict[str, Prepare] = {"keys": _keys}
