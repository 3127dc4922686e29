"""Versioned schema migrations, one folder of numbered SQL files per backend, and the
checks both backends make before using a database: that its schema is not newer than
this code, and that every migration it applied is the one this code ships
(`schema_migrations.checksum`, the sha256 of the migration's text)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources

from mnemo.errors import StoreError


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        """sha256 of the text as read (line endings normalised to `\\n`), in hex."""
        return hashlib.sha256(self.sql.encode("utf-8")).hexdigest()


def load(backend: str) -> list[Migration]:
    """The backend's migrations in version order (`NNNN_name.sql`)."""
    folder = resources.files(__package__).joinpath(backend)
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            number, _, rest = entry.name.partition("_")
            found.append(Migration(int(number), rest.removesuffix(".sql"), entry.read_text()))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if versions != list(range(1, len(found) + 1)):
        raise RuntimeError(f"{backend} migrations are not numbered 1..n: {versions}")
    return found


def unrecorded(applied: Mapping[int, str | None], known: list[Migration]) -> list[Migration]:
    """Check the applied migrations (version -> recorded checksum) against `known`.

    Raises `StoreError` if the database has a version this code does not know (a later
    mnemo upgraded it) or if an applied migration's recorded checksum differs from its
    file's. Returns the applied migrations that have no checksum yet (applied before
    mnemo recorded them): the caller records the current file's, as nothing can verify
    them retroactively.
    """
    from mnemo import __version__  # here: mnemo's package imports the stores

    newest = max(applied, default=0)
    if newest > len(known):
        raise StoreError(
            f"this database has schema version {newest}, newer than this mnemo"
            f" ({__version__}) knows ({len(known)}): upgrade mnemo"
        )
    missing = []
    for migration in known:
        if migration.version not in applied:
            continue
        recorded = applied[migration.version]
        if recorded is None:
            missing.append(migration)
        elif recorded != migration.checksum:
            raise StoreError(
                f"migration {migration.version:04d}_{migration.name} was changed after it"
                f" was applied to this database (sha256 {recorded[:12]} when applied,"
                f" {migration.checksum[:12]} in mnemo {__version__}): refusing to use a"
                " schema this code may not match; reinstall mnemo unmodified"
            )
    return missing
