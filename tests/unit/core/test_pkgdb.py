"""core/pkgdb.py: distro packages found installed, remembered against the package database."""

import json
import os

import pytest

from saltext_venvbuild.core import pkgdb


@pytest.fixture
def database(tmp_path):
    path = tmp_path / "status"
    path.write_text("Package: base-files\n")
    return path


@pytest.fixture
def record(tmp_path, database):
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    return pkgdb.Record(str(state), databases=[str(database), str(tmp_path / "absent")])


def test_identity_names_the_files_that_exist(tmp_path, database):
    identity = pkgdb.database_identity([str(database), str(tmp_path / "absent")])
    st = os.stat(database)
    assert identity == [[str(database), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns]]
    assert pkgdb.database_identity([str(tmp_path / "absent")]) is None


def test_a_rewritten_database_has_another_identity(tmp_path, database):
    before = pkgdb.database_identity([str(database)])
    # dpkg writes status-new and renames it over status: another inode.
    new = tmp_path / "status-new"
    new.write_text("Package: base-files\n")
    os.replace(new, database)
    assert pkgdb.database_identity([str(database)]) != before


def test_covers_what_was_remembered_at_the_same_identity_only(record, database):
    assert not record.covers(["gcc"])
    record.remember(record.identity(), ["gcc", "make"])
    assert record.covers(["gcc"]) and record.covers(["gcc", "make"])
    assert not record.covers(["gcc", "libpq5"])
    record.remember(record.identity(), ["libpq5"])  # same identity: added to what is known
    assert record.covers(["gcc", "libpq5", "make"])
    with open(database, "a", encoding="utf-8") as handle:  # a package was installed or removed
        handle.write("Package: libpq5\n")
    assert not record.covers(["gcc"])
    record.remember(record.identity(), ["gcc"])  # a new identity: only what was listed then
    assert record.covers(["gcc"]) and not record.covers(["make"])


def test_an_identity_read_before_a_change_never_covers_after_it(record, database):
    identity = record.identity()  # read, then the listing is slow and a package goes
    database.write_text("")
    record.remember(identity, ["gcc"])
    assert not record.covers(["gcc"])


def test_no_database_file_means_nothing_is_remembered(tmp_path):
    record = pkgdb.Record(str(tmp_path), databases=[str(tmp_path / "absent")])
    record.remember(record.identity(), ["gcc"])
    assert not record.covers(["gcc"])
    assert not os.path.exists(record.path)


@pytest.mark.parametrize("content", ["not json", "[]", '{"database": 3, "present": "gcc"}', ""])
def test_a_damaged_record_covers_nothing_and_is_replaced(record, content):
    with open(record.path, "w", encoding="utf-8") as handle:
        handle.write(content)
    assert not record.covers(["gcc"])
    record.remember(record.identity(), ["gcc"])
    assert record.covers(["gcc"])


def test_the_record_is_root_only_and_written_atomically(record):
    record.remember(record.identity(), ["gcc"])
    assert oct(os.stat(record.path).st_mode & 0o777) == "0o600"
    with open(record.path, encoding="utf-8") as handle:
        assert json.load(handle)["present"] == ["gcc"]


def test_a_record_that_cannot_be_written_costs_only_a_look(tmp_path, database):
    record = pkgdb.Record(str(tmp_path / "missing" / "state"), databases=[str(database)])
    record.remember(record.identity(), ["gcc"])  # no error
    assert not record.covers(["gcc"])


def test_prepare_runs_before_a_write(tmp_path, database):
    state = tmp_path / "state"
    record = pkgdb.Record(str(state), prepare=lambda: state.mkdir(mode=0o700),
                          databases=[str(database)])
    record.remember(record.identity(), ["gcc"])
    assert record.covers(["gcc"])


def test_missing_reads_names_with_and_without_an_architecture():
    installed = {"gcc", "libssl3", "python3-venv"}
    assert pkgdb.missing(["gcc", "libssl3:amd64", "libpq5", "gcc"], installed) == ["libpq5"]
    assert pkgdb.missing([], installed) == []
