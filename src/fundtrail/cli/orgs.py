"""`fundtrail org add|list` and `fundtrail key create|list|revoke`.

The intel store (SQLAlchemy) is imported inside each command: imported here, every
``fundtrail`` command paid for it at start-up (about 0.4 s), ``ingest bitcoin`` too."""

from __future__ import annotations

import typer

from fundtrail.cli.common import JsonOpt, console, emit, table
from fundtrail.model import display
from fundtrail.model.identity import ORG_KINDS, Identity

org_app = typer.Typer(help="Organisations of the alliance.", no_args_is_help=True)
key_app = typer.Typer(
    help="API keys (only a hash is stored; the key is shown once).", no_args_is_help=True
)


@org_app.command("add")
def org_add(
    name: str,
    kind: str = typer.Option("alliance", help=f"One of: {', '.join(ORG_KINDS)}."),
    as_json: bool = JsonOpt,
) -> None:
    """Add an organisation."""
    from fundtrail.intelstore.db import open_store
    from fundtrail.intelstore.orgs import add_org

    with open_store().session() as s:
        org = add_org(s, name, kind, actor=Identity.operator())
        data = {"id": org.id, "name": org.name, "kind": org.kind}
    emit(
        data,
        as_json,
        lambda d: console.print(
            f"added organisation [bold]{d['name']}[/bold] ({d['kind']}, id {d['id']})"
        ),
    )


@org_app.command("list")
def org_list(as_json: bool = JsonOpt) -> None:
    """List organisations."""
    from fundtrail.intelstore.db import open_store
    from fundtrail.intelstore.orgs import list_orgs

    with open_store().read_session() as s:
        data = [
            {"id": o.id, "name": o.name, "kind": o.kind, "created": o.created} for o in list_orgs(s)
        ]

    def render(rows: list[dict]) -> None:
        out = table("name", "kind", "id", "created (UTC)")
        for r in rows:
            out.add_row(r["name"], r["kind"], r["id"], display.time_utc(r["created"]))
        console.print(out)

    emit(data, as_json, render)


@key_app.command("create")
def key_create(
    org: str = typer.Option(..., "--org", help="Organisation name."),
    role: str = typer.Option(..., "--role", help="admin, analyst or reader."),
    expires: str | None = typer.Option(None, help="90d, 12h or an ISO date; default never."),
    label: str = typer.Option("", help="A note on what the key is for."),
    as_json: bool = JsonOpt,
) -> None:
    """Create an API key and print it once."""
    from fundtrail.intelstore.db import open_store
    from fundtrail.intelstore.keys import create_key, parse_expiry

    with open_store().session() as s:
        new = create_key(
            s, org, role, expires=parse_expiry(expires), label=label, actor=Identity.operator()
        )
    data = {
        "key": new.key,
        "id": new.id,
        "prefix": new.prefix,
        "org": new.org,
        "role": new.role,
        "expires": new.expires,
    }

    def render(d: dict) -> None:
        until = d["expires"].isoformat(timespec="seconds") if d["expires"] else "never"
        console.print(
            f"API key for [bold]{d['org']}[/bold] ({d['role']}, expires {until}); "
            "shown only now, store it safely:"
        )
        typer.echo(d["key"])

    emit(data, as_json, render)


@key_app.command("list")
def key_list(org: str | None = typer.Option(None, "--org"), as_json: bool = JsonOpt) -> None:
    """List keys (prefixes only, never the keys)."""
    from fundtrail.intelstore.db import open_store
    from fundtrail.intelstore.keys import list_keys

    with open_store().read_session() as s:
        data = [
            {
                "id": k.id,
                "prefix": k.prefix,
                "org": k.org.name,
                "role": k.role,
                "label": k.label,
                "created": k.created,
                "expires": k.expires,
                "revoked": k.revoked,
            }
            for k in list_keys(s, org)
        ]

    def render(rows: list[dict]) -> None:
        out = table("prefix", "org", "role", "expires (UTC)", "revoked (UTC)", "id")
        for r in rows:
            out.add_row(
                r["prefix"],
                r["org"],
                r["role"],
                display.time_utc(r["expires"]) if r["expires"] else "never",
                display.time_utc(r["revoked"]) if r["revoked"] else "",
                r["id"],
            )
        console.print(out)

    emit(data, as_json, render)


@key_app.command("revoke")
def key_revoke(key: str = typer.Argument(..., help="Key id, prefix or the key itself.")) -> None:
    """Revoke a key: it stops working at once."""
    from fundtrail.intelstore.db import open_store
    from fundtrail.intelstore.keys import revoke_key

    with open_store().session() as s:
        row = revoke_key(s, key, actor=Identity.operator())
        console.print(f"revoked key {row.prefix} of {row.org.name}")


def register(app: typer.Typer) -> None:
    app.add_typer(org_app, name="org")
    app.add_typer(key_app, name="key")
