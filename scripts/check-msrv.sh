#!/usr/bin/env bash
# The workspace's rust-version (the oldest Rust it claims to build with) must not be older than what
# any locked dependency declares it needs. Only one toolchain is installed where CI runs, so this and
# clippy's `incompatible_msrv` lint (our own use of the standard library) are the MSRV checks we have;
# see CONTRIBUTING.md, "Minimum Rust version".
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
cargo metadata --format-version 1 --locked | python3 -c '
import json, sys

def version(s):
    parts = [int(x) for x in s.split(".")]
    return tuple(parts + [0] * (3 - len(parts)))  # "1.88" is "1.88.0"

meta = json.load(sys.stdin)
members = set(meta["workspace_members"])
ours = {p["rust_version"] for p in meta["packages"] if p["id"] in members}
if len(ours) != 1:
    sys.exit(f"ERROR: workspace members disagree on rust-version: {sorted(ours)}; use rust-version.workspace = true")
msrv = ours.pop()
newer = sorted(
    (version(p["rust_version"]), p["rust_version"], p["name"], p["version"])
    for p in meta["packages"]
    if p["id"] not in members and p.get("rust_version") and version(p["rust_version"]) > version(msrv)
)
for _, needs, name, ver in newer:
    print(f"ERROR: {name} {ver} needs Rust {needs}, newer than rust-version {msrv}", file=sys.stderr)
if newer:
    sys.exit("raise rust-version in Cargo.toml (and the README), or pin those dependencies to older versions")
print(f"ok: no locked dependency needs a Rust newer than rust-version {msrv}")
'
