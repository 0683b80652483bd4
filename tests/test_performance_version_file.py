"""BOOKING_CACHE_URL=file:///...: the data version shared through a memory-mapped file by every
process of one machine (booking/caching/version.py, FileMirror).

The page-level behaviour (a kept page costs no query, a change shows on the next request, the
number is written only after the COMMIT, a mirror unusable) is tested for Redis and the file alike
in tests/test_performance_page_cache.py; several gunicorn workers and another process in
tests/test_performance_workers.py; a wrong setting from the environment in tests/test_accounts_cli.py.
Here: the file itself, and the setting.
"""
from __future__ import annotations

import multiprocessing

import pytest

from booking import SettingMissing, create_app
from booking.caching import version as data_version
from booking.caching.version import MIRROR_SECONDS, FileMirror



@pytest.fixture
def path(tmp_path):
    yield str(tmp_path / "data-version")
    data_version._file_mirrors.clear()


def test_a_new_file_holds_no_version_until_one_is_written(path):
    mirror = FileMirror(path)
    assert mirror.get() is None  # created with zeros: expired long ago, so requests read the database
    mirror.set_if_not_lower(7)
    assert mirror.get() == 7
    assert FileMirror(path).get() == 7  # another process's view of the same file


def test_the_number_never_goes_down_and_holds_for_its_seconds(path, monkeypatch):
    mirror = FileMirror(path)
    mirror.set_if_not_lower(41)
    mirror.set_if_not_lower(40)  # a commit that published late: its number is older
    assert mirror.get() == 41
    mirror.set_if_not_lower(42)
    assert mirror.get() == 42

    # nothing written for MIRROR_SECONDS: requests read the database, and the same number read
    # there makes it valid again
    now = data_version.time.time()
    monkeypatch.setattr(data_version.time, "time", lambda: now + MIRROR_SECONDS + 1)
    assert mirror.get() is None
    mirror.set_if_not_lower(42)
    assert mirror.get() == 42

    # a database restored from a backup starts again lower: once the number has expired, requests
    # keep reading the database (a lower number is never written, not even then)
    monkeypatch.setattr(data_version.time, "time", lambda: now + 2 * MIRROR_SECONDS + 2)
    assert mirror.get() is None
    mirror.set_if_not_lower(3)
    assert mirror.get() is None


def _raise_in_child(path: str, values: list[int], results) -> None:
    mirror = FileMirror(path)
    for value in values:
        mirror.set_if_not_lower(value)
    results.put(mirror.get())


def test_processes_writing_at_once_leave_the_highest_number(path):
    parent = FileMirror(path)
    parent.set_if_not_lower(1)  # opened before the fork: each child must open the file anew
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    children = [context.Process(target=_raise_in_child, args=(path, list(range(start, 3000, 4)), results))
                for start in range(4)]
    for child in children:
        child.start()
    for child in children:
        child.join(timeout=60)
        assert child.exitcode == 0
    seen = [results.get(timeout=10) for _ in children]
    assert max(seen) == 2999
    assert parent.get() == 2999


def _read_in_child(path: str, results) -> None:
    results.put(data_version._file_mirrors[path].get())


def test_a_process_forked_while_a_thread_uses_the_file_reads_it_without_waiting(path):
    mirror = data_version._file_mirrors[path] = FileMirror(path)
    mirror.set_if_not_lower(5)
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    with mirror._lock:  # another thread of the parent is reading or writing at the fork
        child = context.Process(target=_read_in_child, args=(path, results))
        child.start()
        child.join(timeout=20)
    assert child.exitcode == 0, "the child waited for a lock that only the parent's thread could release"
    assert results.get(timeout=10) == 5


@pytest.mark.parametrize("url", [
    "file://relative/data-version",
    "file:///no/such/folder/data-version",
    "file:///tmp",  # a folder, not a file
    "memcached://127.0.0.1:11211",
    "/run/booking/data-version",
])
def test_a_cache_url_that_cannot_work_stops_the_app_from_being_created(url):
    with pytest.raises(SettingMissing) as refused:
        create_app({"BOOKING_CACHE_URL": url})
    assert f"BOOKING_CACHE_URL={url!r}" in str(refused.value)


def test_a_file_in_a_folder_that_exists_and_redis_are_accepted(tmp_path):
    for url in (f"file://{tmp_path / 'data-version'}", "redis://127.0.0.1:6379/0", "", "  "):
        assert create_app({"BOOKING_CACHE_URL": url}).config["BOOKING_CACHE_URL"] == url.strip()
