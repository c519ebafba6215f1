"""Opening comb session databases from the tests.

From schema version 5 on, heap_event and sched_event (and the trace_event view
over them) are virtual tables of comb's SQLite module `comb_events`
(host/include/comb/sqlite_module.h); Python's sqlite3 reads them only with the
loadable extension built next to the comb binary. Every test opens a database
through connect_db, so none of them depends on which tables happen to be
virtual.
"""
import sqlite3
from pathlib import Path


def extension_path() -> Path:
    """<build>/host/libcomb_sqlite.so (CMake target comb_sqlite)."""
    # imported here, not at the top: tests/fuzz/make_seeds.py imports itm_stream (and so this
    # module) with a Python that has no pytest, which conftest needs
    from conftest import build_dir
    return build_dir() / "host" / "libcomb_sqlite.so"


def connect_db(path, read_only=False, **kwargs) -> sqlite3.Connection:
    """A connection to the comb database at `path` with the comb_events module loaded.
    read_only: open it with mode=ro (never creates or writes the file). kwargs go to
    sqlite3.connect (timeout, isolation_level, ...). Fails the test if the extension
    is not built."""
    ext = extension_path()
    if not ext.exists():
        import pytest
        pytest.fail(f"the comb SQLite extension is not built at {ext} (build the CMake target comb_sqlite)")
    if read_only:
        con = sqlite3.connect(Path(path).resolve().as_uri() + "?mode=ro", uri=True, **kwargs)
    else:
        con = sqlite3.connect(path, **kwargs)
    try:
        con.enable_load_extension(True)
        con.load_extension(str(ext))
        con.enable_load_extension(False)
    except BaseException:
        con.close()
        raise
    return con
