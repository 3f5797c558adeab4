"""Which npm packages the GraphiQL page is built from, at pinned versions, and where their files
live in the package (graphql_api/ide/static/vendor).

One source of truth for the page (which files to load), scripts/vendor_graphiql.py (what to
fetch with `npm pack`) and tests/test_graphiql.py (what must be on disk, with which checksum).
To upgrade: change a version here, run `.venv/bin/python scripts/vendor_graphiql.py`, check
the page in a browser (tests/test_browser.py), commit the changed files.
"""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

STATIC_DIR: Final = Path(__file__).parent / "static"
VENDOR_DIR: Final = STATIC_DIR / "vendor"
# `sha256sum -c` format: "<hex digest>  <path relative to VENDOR_DIR>", one file per line.
CHECKSUMS_FILE: Final = VENDOR_DIR / "SHA256SUMS"
LICENCE_FILE: Final = "LICENSE"


@dataclass(frozen=True)
class VendoredPackage:
    name: str
    version: str
    # Path inside the npm tarball (under its `package/` folder) -> file name on disk.
    files: dict[str, str] = field(default_factory=dict)
    # The tarball's licence file, or None when the package ships none (the script then writes
    # the licence of the repository it is published from: see `licence_from`).
    licence: str | None = LICENCE_FILE
    # For a package without a licence file: the vendored package whose licence text covers it.
    licence_from: str | None = None
    # Packages bundled inside this one's files, whose licences are kept next to it.
    bundles: tuple["VendoredPackage", ...] = ()

    @property
    def spec(self) -> str:
        return f"{self.name}@{self.version}"

    @property
    def directory(self) -> str:
        """Folder name under VENDOR_DIR and in asset URLs: versioned, so URLs change with it."""
        return f"{self.name.removeprefix('@').replace('/', '-')}@{self.version}"

    def path(self, file_name: str) -> str:
        """A vendored file's path relative to STATIC_DIR."""
        return f"vendor/{self.directory}/{file_name}"


REACT: Final = VendoredPackage(
    "react", "18.2.0", {"umd/react.production.min.js": "react.production.min.js"}
)
REACT_DOM: Final = VendoredPackage(
    "react-dom", "18.2.0", {"umd/react-dom.production.min.js": "react-dom.production.min.js"}
)
# The same versions strawberry-graphql's own page loads from a CDN. graphiql.min.js is the
# package's self-contained UMD bundle (graphql-js, @graphiql/react, CodeMirror 5, ...): only
# React comes from outside it. Its fonts are inlined in graphiql.min.css as data: URLs.
GRAPHIQL: Final = VendoredPackage(
    "graphiql",
    "3.8.3",
    {"graphiql.min.js": "graphiql.min.js", "graphiql.min.css": "graphiql.min.css"},
)
GRAPHIQL_EXPLORER: Final = VendoredPackage("graphiql-explorer", "0.9.0")
EXPLORER_PLUGIN: Final = VendoredPackage(
    "@graphiql/plugin-explorer",
    "1.0.2",
    {"dist/index.umd.js": "index.umd.js", "dist/style.css": "style.css"},
    licence=None,
    licence_from="graphiql",
    bundles=(GRAPHIQL_EXPLORER,),
)

# In the order the page loads them.
PACKAGES: Final = (REACT, REACT_DOM, GRAPHIQL, EXPLORER_PLUGIN)
