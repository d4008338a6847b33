"""Database engines: the embedded SQLite default and PostgreSQL.

Piccolo's stock SQLite engine opens a connection per query (about 0.9 ms of CPU each) and lets
concurrent writers meet "database is locked". The embedded engine here keeps connections open
for the life of the process: one writer connection, whose transactions are serialised by an
asyncio lock and begin ``IMMEDIATE`` (so other processes wait on the busy timeout instead of
failing), and a few reader connections for statements outside a transaction. Between processes (``serve
--workers N``, the worker, the CLI) the writer is chosen by a lock on a file beside the database
(``<file>.writer-lock``, see :class:`WriterFileLock`) before ``BEGIN IMMEDIATE``: the kernel hands
it to the next process the moment it is released, where SQLite's busy handler would sleep
1–100 ms between tries and leave the cores idle.

Durability choice: WAL with ``synchronous=NORMAL``. A committed transaction survives a crash of
the process; a power cut may lose the last few transactions but never corrupts the file. Set
``HOINGHI_SQLITE_SYNCHRONOUS=FULL`` to trade throughput for the last transactions.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import os
import sqlite3
from typing import Any

import aiosqlite

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine, PostgresTransaction
from piccolo.engine.sqlite import SQLiteEngine, SQLiteTransaction, TransactionType, dict_factory
from piccolo.querystring import QueryString
from piccolo.table import Table

from core.config import Settings
from core.reads import stop_reusing_reads

BUSY_TIMEOUT_MS = 30_000
READER_CONNECTIONS = 4


class WriterFileLock:
    """This process's turn to write, among the processes of one machine sharing the SQLite file:
    an exclusive ``flock`` on ``<database>.writer-lock``, taken only by a task that holds the
    process's own writer lock (so one task per process waits on it at most). Waiting happens in a
    thread and gives up after the busy timeout, as SQLite would ("database is locked"). It only
    orders the writers: SQLite's own lock still guards the file, and processes that do not take
    this one (an sqlite3 shell) meet that lock and its busy timeout as before."""

    def __init__(self, database_path: str) -> None:
        self.path = f"{database_path}.writer-lock"
        self._fd: int | None = None

    def _descriptor(self) -> int:
        if self._fd is None:
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        return self._fd

    async def acquire(self, process_lock: asyncio.Lock) -> None:
        """Take the file lock. If that fails, ``process_lock`` (held by the caller) is released;
        after a cancellation or a timeout only once the waiting thread has given the file lock
        back, never while that thread may still take it."""
        if fcntl is None:  # no flock (Windows): SQLite's busy handler alone
            return
        try:
            fd = self._descriptor()
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            pass
        except BaseException:
            process_lock.release()
            raise
        waiting = asyncio.get_running_loop().run_in_executor(None, fcntl.flock, fd, fcntl.LOCK_EX)
        try:
            await asyncio.wait_for(asyncio.shield(waiting), BUSY_TIMEOUT_MS / 1000)
        except BaseException as error:
            def give_back(done: asyncio.Future) -> None:
                if not done.cancelled() and done.exception() is None:
                    fcntl.flock(fd, fcntl.LOCK_UN)
                process_lock.release()

            waiting.add_done_callback(give_back)
            if isinstance(error, asyncio.TimeoutError):
                raise sqlite3.OperationalError("database is locked") from None
            raise

    def release(self) -> None:
        if fcntl is not None and self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class _EmbeddedTransaction(SQLiteTransaction):
    """A transaction on the engine's single writer connection, serialised by the engine's locks."""

    async def __aenter__(self) -> SQLiteTransaction:
        if self._parent is not None:
            return self._parent
        engine: EmbeddedSQLiteEngine = self.engine  # type: ignore[assignment]
        await engine._take_writer()
        try:
            self.connection = await engine._writer_connection()
            await self.begin()
        except BaseException:
            engine._give_writer_back()
            raise
        self.context = self.engine.current_transaction.set(self)
        return self

    async def __aexit__(self, exception_type, exception, traceback) -> bool:
        if self._parent:
            return exception is None
        engine: EmbeddedSQLiteEngine = self.engine  # type: ignore[assignment]
        try:
            await _commit_or_roll_back(self, exception)
        finally:
            self.engine.current_transaction.reset(self.context)
            engine._give_writer_back()
        return exception is None


async def _commit_or_roll_back(transaction, exception) -> None:
    """Piccolo's ending of a transaction (the caller gives its connection back, or keeps it)."""
    if exception:
        if not transaction._rolled_back:
            await transaction.rollback()
    elif not transaction._committed and not transaction._rolled_back:
        await transaction.commit()


class EmbeddedSQLiteEngine(SQLiteEngine):
    """SQLite with persistent connections and serialised writers (see module docstring)."""

    def __init__(self, path: str, **kwargs: Any) -> None:
        kwargs.setdefault("timeout", BUSY_TIMEOUT_MS / 1000)
        super().__init__(path=path, **kwargs)
        self.current_transaction = contextvars.ContextVar(f"hoinghi_sqlite_tx_{id(self)}", default=None)
        self._writer: aiosqlite.Connection | None = None
        self._readers: list[aiosqlite.Connection] = []
        self._reader_turn = 0
        self._locks: dict[int, asyncio.Lock] = {}
        self._opening = None
        self.synchronous = os.environ.get("HOINGHI_SQLITE_SYNCHRONOUS", "NORMAL").upper()
        self._file_lock = WriterFileLock(path)

    def _writer_lock(self) -> asyncio.Lock:
        loop_id = id(asyncio.get_running_loop())
        lock = self._locks.get(loop_id)
        if lock is None:
            lock = self._locks[loop_id] = asyncio.Lock()
        return lock

    async def _take_writer(self) -> None:
        """This process's writer lock, then the machine's (the file lock)."""
        lock = self._writer_lock()
        await lock.acquire()
        await self._file_lock.acquire(lock)  # which gives the process's lock back if it fails

    def _give_writer_back(self) -> None:
        self._file_lock.release()
        self._writer_lock().release()

    async def _open(self) -> aiosqlite.Connection:
        connection = await aiosqlite.connect(**self.connection_kwargs)
        connection.row_factory = dict_factory  # type: ignore[assignment]
        await connection.execute("PRAGMA journal_mode = WAL")
        await connection.execute(f"PRAGMA synchronous = {self.synchronous}")
        await connection.execute("PRAGMA foreign_keys = ON")
        await connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        # LIKE 'prefix%' may then use an index (subtree paths, folded search keys are lower case)
        await connection.execute("PRAGMA case_sensitive_like = ON")
        return connection

    async def get_connection(self) -> aiosqlite.Connection:
        """A fresh connection (Piccolo's batch iterator closes it when done)."""
        return await self._open()

    async def _writer_connection(self) -> aiosqlite.Connection:
        if self._writer is None:
            self._writer = await self._open()
        return self._writer

    async def _reader_connection(self) -> aiosqlite.Connection:
        if len(self._readers) < READER_CONNECTIONS:
            self._readers.append(await self._open())
            return self._readers[-1]
        self._reader_turn = (self._reader_turn + 1) % len(self._readers)
        return self._readers[self._reader_turn]

    async def _execute(self, connection, query: str, args, query_type: str, table) -> list[dict]:
        # one trip to the connection's thread (a cursor's execute, fetchall and close are three)
        return await connection.execute_fetchall(query, args or [])

    async def _run_in_existing_connection(self, connection, query, args=None, query_type="generic", table=None):
        return await self._execute(connection, query, args, query_type, table)

    async def _run_in_new_connection(self, query, args=None, query_type="generic", table=None):
        if _is_read(query):
            return await self._execute(await self._reader_connection(), query, args, query_type, table)
        await self._take_writer()
        try:
            return await self._execute(await self._writer_connection(), query, args, query_type, table)
        finally:
            self._give_writer_back()

    def transaction(self, transaction_type: TransactionType = TransactionType.immediate, allow_nested: bool = True):
        # Every transaction here writes, so it takes the write lock at BEGIN: no "database is locked"
        # halfway through, and other processes wait on the busy timeout.
        return _EmbeddedTransaction(engine=self, transaction_type=TransactionType.immediate, allow_nested=allow_nested)

    async def close(self) -> None:
        connections = [c for c in [self._writer, *self._readers] if c is not None]
        self._writer, self._readers = None, []
        for connection in connections:
            await connection.close()
        self._file_lock.close()


class _RequestConnection:
    """The pooled connection a block's statements share on PostgreSQL (see :func:`one_connection`):
    taken at the block's first statement by the task that opened the block; its child tasks and
    the statements after :meth:`close` use the pool as usual."""

    __slots__ = ("task", "engine", "connection", "open")

    def __init__(self) -> None:
        self.task = asyncio.current_task()
        self.engine: PostgresEngine | None = None
        self.connection = None
        self.open = True

    async def close(self) -> None:
        self.open = False
        if self.connection is not None:
            connection, self.connection = self.connection, None
            await self.engine.pool.release(connection)


_request_connection: contextvars.ContextVar[_RequestConnection | None] = contextvars.ContextVar(
    "hoinghi_request_connection", default=None)


class _RequestTransaction(PostgresTransaction):
    """A transaction on the block's shared connection when there is one (which stays taken after
    it); otherwise Piccolo's, on a connection of its own from the pool."""

    __slots__ = ("_shared",)

    def __init__(self, engine: PostgresEngine, allow_nested: bool = True) -> None:
        super().__init__(engine=engine, allow_nested=allow_nested)
        self._shared = False

    async def get_connection(self):
        connection = await self.engine._shared_connection()
        self._shared = connection is not None
        return connection if connection is not None else await super().get_connection()

    async def __aexit__(self, exception_type, exception, traceback) -> bool:
        if self._parent is not None or not self._shared:
            return await super().__aexit__(exception_type, exception, traceback)
        try:  # without giving the block's connection back to the pool
            await _commit_or_roll_back(self, exception)
        finally:
            self.engine.current_transaction.reset(self.context)
        return exception is None


class RequestPooledPostgresEngine(PostgresEngine):
    """PostgreSQL where the statements of a :func:`one_connection` block (a web request) share one
    pooled connection. Piccolo takes a connection from the pool for each statement and gives it
    back: two trips through asyncpg's pool per statement (about 0.03 ms of CPU), a tenth of a
    scan's server time."""

    async def _shared_connection(self):
        slot = _request_connection.get()
        if slot is None or not slot.open or slot.task is not asyncio.current_task() or self.pool is None:
            return None
        if slot.engine is not self:
            if slot.engine is not None:  # the block already holds another database's connection
                return None
            slot.engine = self
        if slot.connection is None:
            slot.connection = await self.pool.acquire()
        return slot.connection

    async def _run_in_pool(self, query: str, args=None):
        connection = await self._shared_connection()
        if connection is None:
            return await super()._run_in_pool(query, args)
        return await connection.fetch(query, *(args or []))

    def transaction(self, allow_nested: bool = True) -> _RequestTransaction:
        return _RequestTransaction(engine=self, allow_nested=allow_nested)

    async def fetch_compiled(self, query: str, args: tuple) -> list[dict]:
        """``run_querystring`` for a statement already in asyncpg's form (``$1``…): same
        connection choice and query log, without building and compiling a QueryString."""
        if self.log_queries:
            self.print_query(query_id=self.get_query_id(), query=query)
        current = self.current_transaction.get()
        if current:
            rows = await current.connection.fetch(query, *args)
        else:
            rows = await self._run_in_pool(query, args)
        return [dict(row) for row in rows]


class FixedStatement:
    """A statement of fixed text run on every scan (Piccolo's ``{}`` placeholders): on PostgreSQL
    compiled once to asyncpg's ``$n`` form and sent straight to the driver, where ``Table.raw``
    would build and compile its QueryString anew each time (a tenth of a millisecond of CPU);
    on SQLite through Piccolo, whose embedded engine chooses the connection (writer or reader)."""

    __slots__ = ("text", "_compiled")

    def __init__(self, text: str) -> None:
        self.text = text
        parts = text.split("{}")
        self._compiled = "".join(part + (f"${number}" if number < len(parts) else "")
                                 for number, part in enumerate(parts, start=1))

    async def fetch(self, *args) -> list[dict]:
        engine = current_engine()
        if isinstance(engine, RequestPooledPostgresEngine) and engine.pool is not None:
            return await engine.fetch_compiled(self._compiled, args)
        return await engine.run_querystring(QueryString(self.text, *args))


@contextlib.asynccontextmanager
async def one_connection():
    """Within this block the current task's statements and transactions on PostgreSQL share one
    pooled connection, taken at the first of them and given back at the end (or at the slot's
    ``close()``, which a web request calls when its answer starts: a stream must not hold a
    connection for its whole life). Nothing on SQLite; a block inside a block is the outer one."""
    if _request_connection.get() is not None:
        yield None
        return
    slot = _RequestConnection()
    token = _request_connection.set(slot)
    try:
        yield slot
    finally:
        _request_connection.reset(token)
        await slot.close()


def _is_read(query: str) -> bool:
    head = query.lstrip()[:6].upper()
    return head.startswith("SELECT") or head.startswith("WITH")


def make_engine(settings: Settings) -> Engine:
    if settings.is_postgres:
        return RequestPooledPostgresEngine(config={"dsn": settings.database_url})
    settings.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    return EmbeddedSQLiteEngine(path=str(settings.sqlite_path))


def process_engine() -> Engine:
    """The engine of this process: the one Piccolo's configuration holds, so that migrations,
    tables and the app share one set of connections (and closing it closes them all)."""
    from piccolo.engine import engine_finder

    from core.schema import use_core_piccolo_conf

    use_core_piccolo_conf()
    engine = engine_finder()
    if engine is None:
        raise RuntimeError("no Piccolo engine configured")
    return engine


def is_postgres(engine: Engine) -> bool:
    return engine.engine_type == "postgres"


def all_tables() -> list[type[Table]]:
    """Every Piccolo table class imported so far (core and plugins)."""
    found: list[type[Table]] = []
    stack = list(Table.__subclasses__())
    while stack:
        table = stack.pop()
        stack.extend(table.__subclasses__())
        found.append(table)
    return found


def bind_engine(engine: Engine) -> None:
    """Point every table at ``engine`` (tests clone a database per test and rebind)."""
    for table in all_tables():
        table._meta.db = engine


async def _keep_session(connection) -> None:
    """The pool's reset of a returned connection. asyncpg's default sends ``SELECT
    pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL`` after every use, and Piccolo takes a
    pooled connection per statement: a second round trip for each one. Nothing here leaves session
    state behind (no LISTEN, no advisory lock, no SET; live updates poll the outbox), and asyncpg
    still rolls back a transaction left open before calling this."""


async def open_engine(engine: Engine) -> None:
    if isinstance(engine, PostgresEngine):
        await engine.start_connection_pool(min_size=1, max_size=int(os.environ.get("HOINGHI_PG_POOL", "10")), reset=_keep_session)


async def close_engine(engine: Engine) -> None:
    if isinstance(engine, PostgresEngine):
        await engine.close_connection_pool()
    elif isinstance(engine, EmbeddedSQLiteEngine):
        await engine.close()


def sqlite_backup(source: str, target: str) -> None:
    """Online backup of an SQLite file (consistent while the app keeps writing)."""
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)


_unit_table = None  # core.tables.Unit, once imported (an import statement per call costs on the hot path)


def current_engine() -> Engine:
    """The engine the core tables are bound to (tests rebind per test)."""
    global _unit_table
    if _unit_table is None:
        from core.tables import Unit

        _unit_table = Unit
    return _unit_table._meta.db


def transaction():
    """A write transaction on the current engine (``BEGIN IMMEDIATE`` on SQLite). Reads kept for
    the request (core/reads.py) end here: what follows must see what the transaction wrote."""
    stop_reusing_reads()
    return current_engine().transaction()


def one_write():
    """Write statements that should take SQLite's writer lock once: a transaction there (one
    ``BEGIN IMMEDIATE``, where each statement alone would queue for the lock again behind the
    other processes' writers), nothing on PostgreSQL, where each statement commits alone as it
    would outside (a transaction would cost two more round trips). Not for atomicity: use
    :func:`transaction` where the statements must stand or fall together."""
    if is_postgres(current_engine()):
        return contextlib.nullcontext()
    return transaction()


async def bulk_insert(table: type[Table], columns: list[str], rows: list[tuple], *, chunk: int = 5000) -> None:
    """Insert many rows fast, inside the current transaction (which the caller must open).

    Piccolo's insert builds one object per row (about 12 s per 100k rows here); this goes
    straight to the driver: ``executemany`` on SQLite, ``COPY`` on PostgreSQL.
    """
    if not rows:
        return
    engine = table._meta.db
    transaction = engine.current_transaction.get()
    if transaction is None:
        raise RuntimeError("bulk_insert runs inside a transaction")
    connection = transaction.connection
    name = table._meta.tablename
    if isinstance(engine, PostgresEngine):
        await connection.copy_records_to_table(name, records=rows, columns=columns)
        return
    placeholders = ", ".join("?" for _ in columns)
    quoted = ", ".join(f'"{column}"' for column in columns)
    statement = f'INSERT INTO "{name}" ({quoted}) VALUES ({placeholders})'
    for start in range(0, len(rows), chunk):
        await connection.executemany(statement, rows[start : start + chunk])
