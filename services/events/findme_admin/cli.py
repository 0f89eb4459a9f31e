"""``findme-admin``: create operators and organizers, look at events and the photo
queue, requeue failed photos, re-match or purge an event, run retention now.

It talks to the database, Redis and the blob store directly, like the events
service: ``--database-url`` / ``DATABASE_URL`` / ``FINDME_EVENTS_DATABASE_URL`` and
``--redis-url`` / ``REDIS_URL`` / ``FINDME_EVENTS_REDIS_URL`` (the blob store from
the ``FINDME_EVENTS_BLOB_DIR`` / ``S3_*`` settings), or else the local stack of
``make run`` (``FINDME_DATA_DIR``, default ``./.data``, which records its addresses).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import getpass
import json
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import bcrypt
from findme_common import key_rotation
from findme_common.redis_guard import open_redis
from findme_common.refusals import Refusal
from findme_events.blobs import open_blob_store
from findme_events.cache import EventCache
from findme_events.config import EventsSettings
from findme_events.database import create_engine
from findme_events.server import event_loader
from findme_events.usecases import operations, organizers
from findme_events.usecases.resources import Resources

# bcrypt cost of the accounts made here: the production policy (docs/adr/0004).
BCRYPT_ROUNDS = 12
MIN_PASSWORD_CHARS = 8
MAX_PASSWORD_BYTES = 72
# What `make run` writes into its data folder (findme_devstack.stack.STACK_FILE).
STACK_FILE = "stack.json"


class AdminError(Exception):
    """A command that cannot run; the message is for the operator."""


def _local_stack() -> dict[str, str]:
    path = Path(os.environ.get("FINDME_DATA_DIR", ".data")) / STACK_FILE
    try:
        found: dict[str, str] = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return found


def settings_from(args: argparse.Namespace) -> EventsSettings:
    """The events service's settings for the addresses given or found."""
    stack = _local_stack()
    env = os.environ
    database = args.database_url or env.get("DATABASE_URL") or stack.get("database_url")
    if not database and not env.get("FINDME_EVENTS_DATABASE_URL"):
        raise AdminError(
            "no database: pass --database-url, set DATABASE_URL, or run it beside `make run`"
        )
    overrides: dict[str, Any] = {"metrics_enabled": False}
    if database:
        overrides["database_url"] = database
    redis = args.redis_url or env.get("REDIS_URL") or stack.get("redis_url")
    if redis:
        overrides["redis_url"] = redis
    if stack.get("blob_dir") and not env.get("FINDME_EVENTS_BLOB_DIR"):
        overrides["blob_dir"] = stack["blob_dir"]
    return EventsSettings(**overrides)


def read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            raise AdminError("the two passwords differ")
    if len(password) < MIN_PASSWORD_CHARS:
        raise AdminError(f"the password needs at least {MIN_PASSWORD_CHARS} characters")
    if len(password.encode()) > MAX_PASSWORD_BYTES or "\x00" in password:
        raise AdminError(f"the password must be at most {MAX_PASSWORD_BYTES} bytes, without NUL")
    return password


def hash_password(password: str) -> str:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(BCRYPT_ROUNDS)).decode()


def _print(args: argparse.Namespace, data: Any, lines: Sequence[str]) -> None:
    if args.json:
        print(json.dumps(data, default=str, indent=2))
    else:
        print("\n".join(lines))


# -- commands ------------------------------------------------------------------------------


async def create_account(r: Resources, args: argparse.Namespace) -> None:
    password_hash = hash_password(read_password(args))
    create = (
        organizers.create_operator
        if args.command == "create-operator"
        else (organizers.create_organizer)
    )
    account_id = await create(r, email=args.email, password_hash=password_hash)
    kind = args.command.removeprefix("create-")
    _print(args, {kind: {"id": account_id, "email": args.email}}, [f"{kind} {account_id} created"])


async def list_events(r: Resources, args: argparse.Namespace) -> None:
    found = await operations.overview(r, limit=args.limit)
    data = [
        {"event": dataclasses.asdict(item.event), "stats": dataclasses.asdict(item.stats)}
        for item in found
    ]
    lines = ["id  code      attendees selfies photos(done/pending/failed) faces matches  name"]
    for item in found:
        e, s, p = item.event, item.stats, item.stats.photos
        lines.append(
            f"{e.id:<3} {e.code:<9} {s.attendees:>9} {s.selfies:>7} "
            f"{p.done:>6}/{p.pending}/{p.failed:<12} {s.faces:>5} {s.matches:>7}  {e.name}"
        )
    _print(args, data, lines)


async def show_queue(r: Resources, args: argparse.Namespace) -> None:
    depth = await operations.queue(r)
    _print(
        args,
        dataclasses.asdict(depth),
        [
            f"pending {depth.pending}, processing {depth.processing}, "
            f"oldest pending {depth.oldest_pending_seconds:.0f} s"
        ],
    )


async def requeue_failed(r: Resources, args: argparse.Namespace) -> None:
    count = await operations.requeue_failed(r, event_id=args.event_id)
    _print(args, {"requeued": count}, [f"{count} failed photos back in the queue"])


async def rematch(r: Resources, args: argparse.Namespace) -> None:
    references, matches = await operations.rematch(r, event_id=args.event_id)
    _print(
        args,
        {"references": references, "matches": matches},
        [f"{references} references (selfies and confirmed faces) matched again: {matches} matches"],
    )


async def purge(r: Resources, args: argparse.Namespace) -> None:
    event = await operations.purge(r, event_id=args.event_id)
    _print(args, {"purged": event.id}, [f"event {event.id} ({event.code}) and its photos purged"])


async def retention(r: Resources, args: argparse.Namespace) -> None:
    purged = await operations.run_retention(r)
    _print(
        args,
        dataclasses.asdict(purged),
        [
            f"retention: {purged.matches} matches, {purged.selfies} selfies, {purged.faces} "
            f"faces and {purged.failed_photos} failed photos removed"
        ],
    )


Command = Callable[[Resources, argparse.Namespace], Awaitable[None]]


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="findme-admin", description=__doc__.split("\n\n")[0])
    top.add_argument("--database-url", help="PostgreSQL (default: DATABASE_URL, or make run's)")
    top.add_argument("--redis-url", help="Redis (default: REDIS_URL, or make run's)")
    top.add_argument("--json", action="store_true", help="answer in JSON")
    commands = top.add_subparsers(dest="command", required=True)

    def command(name: str, run: Command, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text)
        sub.set_defaults(run=run)
        return sub

    for kind in ("operator", "organizer"):
        sub = command(f"create-{kind}", create_account, f"create an {kind} account")
        sub.add_argument("email")
        sub.add_argument(
            "--password-stdin", action="store_true", help="read the password from stdin"
        )
    sub = command("events", list_events, "list events with their figures, newest first")
    sub.add_argument("--limit", type=int, default=50)
    command("queue", show_queue, "the photo queue: waiting, being analysed, oldest wait")
    for name, run, help_text in (
        ("requeue-failed", requeue_failed, "put an event's failed photos back in the queue"),
        ("rematch", rematch, "derive an event's matches again from every reference"),
        ("purge-event", purge, "delete an event with all its data and photos"),
    ):
        command(name, run, help_text).add_argument("event_id", type=int)
    command("retention", retention, "delete expired matches, selfies, faces and failed photos now")
    rotation = commands.add_parser(
        "rotate-token-key",
        help="make a new token signing key; print the settings that roll it out "
        "(or rotate make run's key folder)",
    )
    rotation.set_defaults(run=None)
    rotation.add_argument("--accepted", help="file with the public keys the gateway accepts")
    rotation.add_argument("--key-dir", help="rotate this key folder in place (.data/keys)")
    rotation.add_argument("--keep", default="1", help="current keys that stay accepted")
    return top


def rotate_token_key(args: argparse.Namespace) -> int:
    """Needs no database: ``findme_common.key_rotation``, as ``make run`` keeps its keys."""
    argv = ["--keep", args.keep]
    if args.accepted:
        argv += ["--accepted", args.accepted]
    if args.key_dir:
        argv += ["--key-dir", args.key_dir]
    return key_rotation.main(argv)


async def run(args: argparse.Namespace) -> None:
    settings = settings_from(args)
    engine = create_engine(settings, application_name="findme-admin")
    redis = open_redis(settings.redis_url, timeout=settings.redis_timeout, decode_responses=True)
    cache = EventCache(redis=redis, load=event_loader(engine))
    resources = Resources(
        engine=engine, cache=cache, blobs=open_blob_store(settings), settings=settings
    )
    try:
        await args.run(resources, args)
    finally:
        await redis.aclose()
        await engine.dispose()


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.run is None:
        return rotate_token_key(args)
    try:
        asyncio.run(run(args))
    except AdminError as exc:
        print(f"findme-admin: {exc}", file=sys.stderr)
        return 2
    except Refusal as refusal:
        print(f"findme-admin: {refusal.reason.value}: {refusal.message}", file=sys.stderr)
        return 1
    return 0
