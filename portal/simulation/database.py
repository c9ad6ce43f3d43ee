"""A database of the season's own: a throwaway PostgreSQL database beside the configured
one, or a temporary SQLite file on the embedded default. Created, migrated and dropped
with Django's own test-database machinery; the live data is never opened for writing."""

import os
import tempfile
from contextlib import contextmanager

from django.db import connections


@contextmanager
def throwaway_database(*, label: str):
    connection = connections["default"]
    old_name = connection.settings_dict["NAME"]
    test_settings = connection.settings_dict.setdefault("TEST", {})
    old_test_name = test_settings.get("NAME")
    with tempfile.TemporaryDirectory(prefix="season-") as directory:
        if connection.vendor == "sqlite":
            test_settings["NAME"] = os.path.join(directory, f"season-{label}.sqlite3")
        else:
            test_settings["NAME"] = f"{old_name}_season_{label}_{os.getpid()}"
        try:
            name = connection.creation.create_test_db(
                verbosity=0, autoclobber=True, serialize=False
            )
            # A database dropped at the end needs no flush to disk at each commit.
            with connection.cursor() as cursor:
                if connection.vendor == "postgresql":
                    cursor.execute("SET synchronous_commit TO off")
                elif connection.vendor == "sqlite":
                    cursor.execute("PRAGMA synchronous = OFF")
            yield name
        finally:
            connection.creation.destroy_test_db(old_name, verbosity=0)
            test_settings["NAME"] = old_test_name
