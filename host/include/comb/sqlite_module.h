/*
 * comb's SQLite module. From schema version 5 on, heap_event and sched_event
 * are virtual tables (module `comb_events`) over compact event blocks in the
 * real tables heap_block and sched_block (docs/schema.md "Event blocks"): same
 * columns as the version-4 tables, rows in (session, seq) order, and
 * `WHERE session = ?` / seq ranges / `ORDER BY session, seq` served from the
 * blocks' index without a sort.
 *
 * Reading and writing them needs the module on the connection:
 * - comb_store_open registers it on the connections it opens;
 * - a program opening the file itself calls comb_sqlite_register first;
 * - the sqlite3 shell and other SQLite programs load the extension built next
 *   to the comb binary: `.load <build>/host/libcomb_sqlite` (Python:
 *   conn.enable_load_extension(True); conn.load_extension(path)).
 * Without it, a query on these tables fails with "no such module: comb_events";
 * every other table (session, log_line, other_event, decode_error, the blocks)
 * reads as usual.
 *
 * Inserting: `INSERT INTO heap_event ...` works as on a table, with these
 * limits: rows of a session must come in increasing seq order after the
 * session's stored rows (SQLITE_CONSTRAINT otherwise), UPDATE and DELETE are
 * refused (the tables are append-only; delete a session's blocks instead), and
 * rows are buffered per connection and written as blocks of up to 4,096 rows
 * when a statement savepoint begins, the transaction commits, the table is read
 * or the buffer is full; a rollback discards them as it would table rows. So a
 * `DELETE FROM heap_block` in the same transaction does not see rows still in
 * the buffer (docs/schema.md).
 */
#ifndef COMB_SQLITE_MODULE_H
#define COMB_SQLITE_MODULE_H

struct sqlite3;

/* Registers the module on db. Returns an SQLite result code (SQLITE_OK = 0).
 * Call once per connection, from the thread that uses it. */
int comb_sqlite_register(struct sqlite3 *db);

#endif
