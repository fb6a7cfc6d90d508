"""``graphiff users`` (users, roles and API tokens of the workbench) and ``graphiff audit`` (list
and verify the hash-chained audit log), docs/case-work.md. Thin commands over
:mod:`graphiff.casework.users` and :mod:`graphiff.casework.audit`; they touch only the case book.
Passwords and token secrets are never printed (a new token once) or logged.
"""
from __future__ import annotations

import json
import sys
from datetime import datetime, timezone
from typing import Any, Optional

import typer
from rich.table import Table

from graphiff.cli.app import app
from graphiff.cli.common import (
    ActorOpt,
    DatabaseOpt,
    JsonOpt,
    StoreOpt,
    acting_user,
    audit_as,
    case_book,
    console,
    esc,
    print_json,
)
from graphiff.errors import GraphiffError

users_app = typer.Typer(name="users", no_args_is_help=True, add_completion=False,
                        help="Users, roles (analyst, supervisor, admin) and API tokens of the workbench. Passwords "
                             "are kept as Argon2id hashes, tokens as SHA-256: neither is ever shown again or "
                             "logged.")
app.add_typer(users_app, name="users")


def _password(name: str, from_stdin: bool) -> str:
    """The new password: the first line of standard input, or asked for twice with hidden input."""
    if from_stdin:
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            raise GraphiffError("no password on standard input (--password-stdin reads its first line)")
        return line
    if not sys.stdin.isatty():
        raise GraphiffError("no terminal to ask the password on: give it on standard input with --password-stdin")
    return str(typer.prompt(f"password for {name}", hide_input=True, confirmation_prompt=True))


PasswordStdinOpt = typer.Option(False, "--password-stdin", help="Read the password from the first line of "
                                "standard input (for scripts) instead of asking twice.")
UserNameArg = typer.Argument(..., metavar="NAME", help="The user's name (letters, digits and . _ @ -).")


@users_app.command("add")
def users_add_cmd(
    name: str = UserNameArg,
    role: str = typer.Option(..., "--role", help="analyst (search, view, triage, cases, charts), supervisor (also "
                                                 "close cases, packages, the audit log) or admin (also users)."),
    password_stdin: bool = PasswordStdinOpt,
    user: Optional[str] = ActorOpt,
    store: Optional[str] = StoreOpt,
    database: Optional[str] = DatabaseOpt,
) -> None:
    """Add a user of the workbench. Asks for the password twice (hidden; at least 10 characters) unless
    --password-stdin. As soon as one user exists, the workbench needs a login."""
    from graphiff.casework.users import ROLES, add_user

    if role not in ROLES:  # before asking for a password
        raise GraphiffError(f"unknown role {role!r}; choose one of: {', '.join(ROLES)}")
    who = acting_user(user)
    with case_book(store, database) as book:
        if book.get("user", name) is not None:  # before asking for a password
            raise GraphiffError(f"user {name!r} exists already (see `graphiff users list`)")
        add_user(book, name, role, _password(name, password_stdin), by=who)
        audit_as(book, who, "user_change", [name], detail={"change": "added", "role": role})
    console.print(f"added {esc(name)} ({role})", highlight=False)


@users_app.command("list")
def users_list_cmd(
    store: Optional[str] = StoreOpt,
    database: Optional[str] = DatabaseOpt,
    as_json: bool = JsonOpt,
) -> None:
    """The users: name, role, when and by whom added, last login, lock-out."""
    from graphiff.casework.users import list_users

    with case_book(store, database) as book:
        users = list_users(book)
    if as_json:
        print_json(users)
        return
    if not users:
        console.print("no users: a workbench on 127.0.0.1 runs with one local user and no login (add one with "
                      "`graphiff users add`)", highlight=False, markup=False)
        return
    t = Table(title=f"{len(users)} user(s)")
    for col in ("name", "role", "added", "by", "last login", "locked until", "failures"):
        t.add_column(col)
    for u in users:
        t.add_row(esc(u["id"]), esc(u.get("role")), esc(u.get("created_at")), esc(u.get("created_by")),
                  esc(u.get("last_login") or "-"), esc(u.get("locked_until") or ""), str(u.get("failures") or 0))
    console.print(t)


@users_app.command("role")
def users_role_cmd(
    name: str = UserNameArg,
    role: str = typer.Argument(..., metavar="ROLE", help="analyst, supervisor or admin."),
    user: Optional[str] = ActorOpt,
    store: Optional[str] = StoreOpt,
    database: Optional[str] = DatabaseOpt,
) -> None:
    """Change a user's role."""
    from graphiff.casework.users import set_role

    who = acting_user(user)
    with case_book(store, database) as book:
        set_role(book, name, role)
        audit_as(book, who, "user_change", [name], detail={"change": "role", "role": role})
    console.print(f"{esc(name)} is now {esc(role)}", highlight=False)


@users_app.command("passwd")
def users_passwd_cmd(
    name: str = UserNameArg,
    password_stdin: bool = PasswordStdinOpt,
    user: Optional[str] = ActorOpt,
    store: Optional[str] = StoreOpt,
    database: Optional[str] = DatabaseOpt,
) -> None:
    """Set a user's password (asked twice, hidden, unless --password-stdin); lifts a lock-out."""
    from graphiff.casework.users import set_password

    who = acting_user(user)
    with case_book(store, database) as book:
        if book.get("user", name) is None:  # before asking for a password
            raise GraphiffError(f"no user {name!r} (see `graphiff users list`)")
        set_password(book, name, _password(name, password_stdin))
        audit_as(book, who, "user_change", [name], detail={"change": "password"})
    console.print(f"password of {esc(name)} changed", highlight=False)


@users_app.command("remove")
def users_remove_cmd(
    name: str = UserNameArg,
    user: Optional[str] = ActorOpt,
    store: Optional[str] = StoreOpt,
    database: Optional[str] = DatabaseOpt,
) -> None:
    """Remove a user and revoke their tokens (what they did stays in the audit log)."""
    from graphiff.casework.users import remove_user

    who = acting_user(user)
    with case_book(store, database) as book:
        remove_user(book, name)
        audit_as(book, who, "user_change", [name], detail={"change": "removed"})
    console.print(f"removed {esc(name)}; their tokens are revoked", highlight=False)


@users_app.command("token")
def users_token_cmd(
    name: str = UserNameArg,
    label: str = typer.Option("", "--label", help="What the token is for, e.g. 'nightly export'."),
    user: Optional[str] = ActorOpt,
    store: Optional[str] = StoreOpt,
    database: Optional[str] = DatabaseOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Make an API token for scripts (sent as `Authorization: Bearer TOKEN`), acting as user NAME with their role.
    The token is printed once and never again: only its SHA-256 is kept."""
    from graphiff.casework.users import create_token

    who = acting_user(user)
    with case_book(store, database) as book:
        tid, secret = create_token(book, name, label=label, by=who)
        audit_as(book, who, "token_change", [tid], detail={"change": "made", "user": name})
    if as_json:
        print_json({"id": tid, "user": name, "label": label, "token": secret})
        return
    console.print(f"token {tid} for {esc(name)}:", highlight=False)
    typer.echo(secret)
    console.print("keep it now: it is not shown again (revoke it with `graphiff users revoke "
                  f"{tid}`)", highlight=False, markup=False)


@users_app.command("tokens")
def users_tokens_cmd(
    store: Optional[str] = StoreOpt,
    database: Optional[str] = DatabaseOpt,
    as_json: bool = JsonOpt,
) -> None:
    """The API tokens: id, user, label, when and by whom made, when revoked (never the token itself)."""
    from graphiff.casework.users import list_tokens

    with case_book(store, database) as book:
        tokens = list_tokens(book)
    if as_json:
        print_json(tokens)
        return
    if not tokens:
        console.print("no tokens (make one with `graphiff users token NAME`)", highlight=False, markup=False)
        return
    t = Table(title=f"{len(tokens)} token(s)")
    for col in ("id", "user", "label", "made", "by", "revoked"):
        t.add_column(col)
    for k in tokens:
        t.add_row(esc(k["id"]), esc(k.get("user")), esc(k.get("label")), esc(k.get("created_at")),
                  esc(k.get("created_by")), esc(k.get("revoked_at") or ""))
    console.print(t)


@users_app.command("revoke")
def users_revoke_cmd(
    token_id: str = typer.Argument(..., metavar="TOKEN_ID", help="The token's id (`graphiff users tokens`)."),
    user: Optional[str] = ActorOpt,
    store: Optional[str] = StoreOpt,
    database: Optional[str] = DatabaseOpt,
) -> None:
    """Revoke an API token: it no longer signs anybody in."""
    from graphiff.casework.users import revoke_token

    who = acting_user(user)
    with case_book(store, database) as book:
        revoke_token(book, token_id)
        audit_as(book, who, "token_change", [token_id], detail={"change": "revoked"})
    console.print(f"token {esc(token_id)} revoked", highlight=False)


# =================================================================================== audit
def _since(value: str | None) -> str | None:
    """``--since``: a day (YYYY-MM-DD, YYYY-MM, YYYY) or a time (YYYY-MM-DDTHH:MM[:SS], UTC unless it names
    its offset), as the log's UTC times compare with it."""
    from graphiff.graph.index import check_date

    if value is None:
        return None
    try:
        if "T" not in value.upper():
            return check_date(value, "date")
        t = datetime.fromisoformat(value)
    except (GraphiffError, ValueError):
        raise GraphiffError(f"--since {value!r} is neither a date (YYYY-MM-DD) nor a time (YYYY-MM-DDTHH:MM)"
                            ) from None
    return (t.astimezone(timezone.utc) if t.tzinfo else t).replace(tzinfo=None).isoformat()


def _ids_cell(ids: list[Any]) -> str:
    head = ", ".join(str(i) for i in ids[:3])
    return f"{len(ids)}: {head}" + (", …" if len(ids) > 3 else "") if ids else ""


@app.command("audit")
def audit_cmd(
    user: Optional[str] = typer.Option(None, "--user", help="Only entries of this user."),
    since: Optional[str] = typer.Option(None, "--since",
                                        help="Only entries on or after this day (YYYY-MM-DD) or UTC time "
                                             "(YYYY-MM-DDTHH:MM)."),
    action: Optional[str] = typer.Option(None, "--action", help="Only entries of this action (login, search, "
                                         "view_alert, status, export, package, case_create, ...)."),
    case: Optional[str] = typer.Option(None, "--case", help="Only entries made with this case open, e.g. C-0001."),
    limit: int = typer.Option(100, "--limit", "-n", min=1, help="Show the newest N entries that match."),
    verify: bool = typer.Option(False, "--verify", help="Instead of listing: check the whole chain (every entry's "
                                "hash, none missing, each linked to the one before) and print its head SEQ:HASH. "
                                "Exit code 1 when the log was changed: a finding, not a usage error."),
    head: Optional[str] = typer.Option(None, "--head", help="With --verify: a head SEQ:HASH printed earlier; that "
                                       "entry must still be there, unchanged (detects a log cut short)."),
    store: Optional[str] = StoreOpt,
    database: Optional[str] = DatabaseOpt,
    as_json: bool = JsonOpt,
) -> None:
    """The audit log: who searched, viewed, changed and exported what, and when (ids, never the data), oldest
    first. With --verify, check that no entry was changed or deleted since it was written; keep the head it
    prints elsewhere and pass it back with --head to also detect entries removed from the end."""
    from graphiff.casework import audit

    since = _since(since)
    if head is not None and not verify:
        raise GraphiffError("--head goes with --verify")
    if verify:
        if user or since or action or case:
            raise GraphiffError("--verify checks the whole log: leave out --user, --since, --action and --case")
        with case_book(store, database) as book:
            result = audit.verify(book, head=head)
        if as_json:
            print_json({"ok": result.ok, "entries": result.entries, "head": result.head, "problems": result.problems})
        elif result.ok:
            console.print(f"audit log intact: {result.entries:,} entries, head {result.head}", highlight=False)
        else:
            for p in result.problems:
                console.print(f"[bold red]audit log broken:[/] {esc(p)}", highlight=False)
            console.print(f"{len(result.problems):,} problem(s) in {result.entries:,} entries", highlight=False)
        if not result.ok:
            raise typer.Exit(1)
        return
    if action is not None and action not in audit.ACTIONS:
        raise GraphiffError(f"unknown audit action {action!r}; choose one of: {', '.join(audit.ACTIONS)}")
    with case_book(store, database) as book:
        entries = audit.read(book, user=user, since=since, action=action, case=case)
    shown = entries[-limit:]
    if as_json:
        print_json({"total": len(entries), "entries": shown})
        return
    if not shown:
        console.print("no audit entries" + (" match" if user or since or action or case else ""),
                      highlight=False, markup=False)
        return
    t = Table(title=f"last {len(shown):,} of {len(entries):,} audit entries" if len(shown) < len(entries)
              else f"{len(entries):,} audit entries")
    for col in ("seq", "at", "user", "action", "case", "ids", "detail"):
        t.add_column(col, justify="right" if col == "seq" else "left")
    for e in shown:
        detail = json.dumps(e.get("detail") or {}, ensure_ascii=False, default=str) if e.get("detail") else ""
        t.add_row(str(e.get("seq")), esc(str(e.get("at", ""))[:19]), esc(e.get("user")), esc(e.get("action")),
                  esc(e.get("case") or ""), esc(_ids_cell(list(e.get("ids") or []))), esc(detail))
    console.print(t)
