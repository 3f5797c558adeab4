"""Refresh the vendored GraphiQL assets (graphql_api/ide/static/vendor) from the npm registry.

    .venv/bin/python scripts/vendor_graphiql.py

Needs `npm`. Each package in graphql_api/ide/vendor.py is fetched with `npm pack name@version`
(npm checks the tarball against the registry's integrity hash) into a temporary folder; only
the files the page loads are copied, with the package's licence text. Then README.md and
SHA256SUMS are rewritten: tests/test_graphiql.py checks every vendored file against them.
Nothing is built or minified here: the files are byte for byte the published ones.
"""

import hashlib
import json
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import textwrap
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from graphql_api.ide.vendor import (
    CHECKSUMS_FILE,
    GRAPHIQL,
    LICENCE_FILE,
    PACKAGES,
    VENDOR_DIR,
    VendoredPackage,
)

# webpack names each bundled module by its source path: ".../node_modules/<package>/...".
_BUNDLED_MODULE = re.compile(r'^/\*\*\*/ "[^"]*node_modules/((?:@[^/"]+/)?[^/"]+)/', re.MULTILINE)


@dataclass(frozen=True)
class Tarball:
    package: VendoredPackage
    path: Path
    integrity: str

    def read(self, member: str) -> bytes:
        with tarfile.open(self.path) as archive:
            handle = archive.extractfile(f"package/{member}")
            if handle is None:
                raise FileNotFoundError(f"{self.package.spec}: {member} is not a file")
            return handle.read()


def npm_pack(package: VendoredPackage, into: Path) -> Tarball:
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit("npm is needed: apt-get install -y npm")
    output = subprocess.run(  # noqa: S603 - fixed arguments; the spec comes from vendor.py
        [npm, "pack", package.spec, "--json", "--ignore-scripts", "--pack-destination", into],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    [packed] = json.loads(output)
    return Tarball(package, into / packed["filename"], packed["integrity"])


def licence_text(tarball: Tarball, tarballs: dict[str, Tarball]) -> bytes:
    package = tarball.package
    if package.licence is not None:
        return tarball.read(package.licence)
    if package.licence_from is None:
        raise ValueError(f"{package.spec} ships no licence file and names no licence_from")
    source = tarballs[package.licence_from]
    note = (
        f"{package.spec} ships no licence file; its package.json declares MIT, and it is\n"
        f"published from the same repository (github.com/graphql/graphiql) as\n"
        f"{source.package.spec}, whose licence follows.\n\n"
    )
    return note.encode() + licence_text(source, tarballs)


def write_package(tarball: Tarball, tarballs: dict[str, Tarball]) -> None:
    package = tarball.package
    folder = VENDOR_DIR / package.directory
    folder.mkdir(parents=True)
    for member, file_name in package.files.items():
        (folder / file_name).write_bytes(tarball.read(member))
    (folder / LICENCE_FILE).write_bytes(licence_text(tarball, tarballs))
    for bundled in package.bundles:
        bundled_licence = licence_text(tarballs[bundled.name], tarballs)
        (folder / f"{LICENCE_FILE}.{bundled.name}").write_bytes(bundled_licence)


def bundled_in_graphiql() -> list[str]:
    source = (VENDOR_DIR / GRAPHIQL.directory / "graphiql.min.js").read_text()
    return sorted(set(_BUNDLED_MODULE.findall(source)))


def readme(tarballs: dict[str, Tarball]) -> str:
    rows = []
    for package in PACKAGES:
        files = ", ".join(
            f"`{name}` ({(VENDOR_DIR / package.directory / name).stat().st_size:,} B)"
            for name in package.files.values()
        )
        integrity = tarballs[package.name].integrity
        rows.append(f"| `{package.spec}` | {files} | `{integrity}` |")
        rows.extend(
            f"| `{bundled.spec}` (inside {package.name}) | licence only | "
            f"`{tarballs[bundled.name].integrity}` |"
            for bundled in package.bundles
        )
    bundled = textwrap.fill(
        ", ".join(bundled_in_graphiql()) + ".", width=95, break_on_hyphens=False
    )
    return f"""# Vendored GraphiQL assets

Written by `scripts/vendor_graphiql.py` (do not edit by hand): the GraphiQL page at
`GET /graphql` loads these from this server only, so it works offline. Each file is byte for
byte the one in the npm package named by its folder; `SHA256SUMS` lists every file here and
`tests/test_graphiql.py` checks them. Versions are pinned in `graphql_api/ide/vendor.py`.

| npm package | files | tarball integrity (npm) |
|---|---|---|
{chr(10).join(rows)}

Licences: each folder keeps its package's `LICENSE` (all MIT). `@graphiql/plugin-explorer`
ships none; its `LICENSE` is that of the repository it is published from, and
`LICENSE.graphiql-explorer` is the licence of the explorer it bundles.

`graphiql.min.js` is graphiql's self-contained UMD bundle (not minified by its authors: it is
the largest file here). Besides graphiql and @graphiql/react it contains these npm packages,
each under its own licence as published:

{bundled}
"""


def write_checksums() -> None:
    lines = [
        f"{hashlib.sha256(path.read_bytes()).hexdigest()}  {path.relative_to(VENDOR_DIR)}"
        for path in sorted(VENDOR_DIR.rglob("*"))
        if path.is_file() and path != CHECKSUMS_FILE
    ]
    CHECKSUMS_FILE.write_text("\n".join(lines) + "\n")


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="vendor-graphiql-") as temporary:
        wanted = [*PACKAGES, *(bundled for p in PACKAGES for bundled in p.bundles)]
        tarballs = {package.name: npm_pack(package, Path(temporary)) for package in wanted}
        shutil.rmtree(VENDOR_DIR, ignore_errors=True)
        VENDOR_DIR.mkdir(parents=True)
        for package in PACKAGES:
            write_package(tarballs[package.name], tarballs)
        (VENDOR_DIR / "README.md").write_text(readme(tarballs))
    write_checksums()
    total = sum(path.stat().st_size for path in VENDOR_DIR.rglob("*") if path.is_file())
    print(f"vendored {len(PACKAGES)} packages into {VENDOR_DIR} ({total:,} bytes)")  # noqa: T201
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
