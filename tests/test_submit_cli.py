"""`kb token`, `kb submit` and `kb rollback` (CliRunner, a store of their own)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from kb.cli import main

ROOT = Path(__file__).resolve().parent.parent
CLUSTER = ROOT / "data/clusters/antwerpen-duurzaam-bouwen.ttl"


def test_tokens_submit_dry_run_refusal_and_rollback(runner: CliRunner, tmp_path: Path) -> None:
    r = runner.invoke(main, ["token", "create", "Cli Steward", "--graphs", "clusters/*"])
    assert r.exit_code == 0, r.output
    steward = r.stdout.strip().splitlines()[0]
    assert steward.startswith("ckb_")
    admin = runner.invoke(main, ["token", "create", "Cli Admin", "--admin"]).stdout.strip()
    listing = runner.invoke(main, ["token", "list"]).stdout
    assert "Cli Steward" in listing and steward not in listing
    assert runner.invoke(main, ["token", "create", "Nobody"]).exit_code == 2

    args = ["submit", str(CLUSTER), "--graph", "clusters/cli", "--token", steward]
    r = runner.invoke(main, [*args, "--dry-run", "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["dryRun"] is True
    r = runner.invoke(main, args)
    assert r.exit_code == 0, r.output
    assert "version 1" in r.stderr

    broken = tmp_path / "broken.ttl"
    broken.write_text(CLUSTER.read_text().replace("pc:runBy idorg:provincie-antwerpen ;", ""))
    r = runner.invoke(main, ["submit", str(broken), "--graph", "clusters/cli", "--token", steward])
    assert r.exit_code == 1 and "runBy" in r.stdout and "line " in r.stdout
    r = runner.invoke(main, ["submit", str(CLUSTER), "--graph", "shapes/x", "--token", admin])
    assert r.exit_code == 2
    r = runner.invoke(main, ["submit", str(CLUSTER), "--graph", "clusters/cli", "--token", "x"])
    assert r.exit_code == 2 and "not valid" in r.stderr

    extra = tmp_path / "extra.ttl"
    extra.write_text(
        "<id/cluster/antwerpen-duurzaam-bouwen> "
        '<http://www.w3.org/2004/02/skos/core#altLabel> "ADB"@nl .\n'
    )
    args = ["submit", str(extra), "--graph", "clusters/cli", "--append", "--token", steward]
    assert runner.invoke(main, args).exit_code == 0
    assert runner.invoke(main, ["rollback", "clusters/cli", "1", "--token", steward]).exit_code == 2
    r = runner.invoke(main, ["rollback", "clusters/cli", "1", "--token", admin])
    assert r.exit_code == 0, r.output
    assert "version 3" in r.stderr and "1 removed" in r.stderr

    assert runner.invoke(main, ["token", "revoke", "Cli Steward"]).exit_code == 0
    r = runner.invoke(main, ["submit", str(CLUSTER), "--graph", "clusters/cli", "--token", steward])
    assert r.exit_code == 2 and "revoked" in r.stderr


def test_cli_writes_are_in_the_audit_log(runner: CliRunner, tmp_path: Path) -> None:
    from kb.audit import AuditLog
    from kb.config import load_settings

    token = runner.invoke(main, ["token", "create", "Audited", "--graphs", "clusters/*"]).stdout
    args = ["submit", str(CLUSTER), "--graph", "clusters/audit", "--token", token.strip()]
    assert runner.invoke(main, args).exit_code == 0
    assert runner.invoke(main, [*args[:3], "shapes/x", *args[4:]]).exit_code == 2
    log = list(AuditLog(load_settings().audit_path).entries())
    assert [e["outcome"] for e in log] == ["committed", "forbidden"]
    assert all(e["who"] == "Audited" and e["remote"] == "cli" for e in log)
