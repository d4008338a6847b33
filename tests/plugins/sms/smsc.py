"""A real SMSC on 127.0.0.1 for tests and benchmarks, built on smpp34's asyncio server.

It binds any ESME, answers every submit_sm (``smsc-1``, ``smsc-2``, ...), sends a deliver_sm
receipt per accepted part, and misbehaves on demand. Clients reach it through a TCP proxy, so
the connection can be cut the way a network does (``drop()``; ``drop_after(n)``: cut it when the
n-th part arrives, before answering it). Planned outcomes, one per submit_sm: ``"throttle"``
(ESME_RTHROTTLED), ``"reject:0x0B"`` (that status), ``"receipt_first"`` (the receipt is sent and
acknowledged *before* the submit_sm_resp), ``"undeliv"`` (accepted, then a failed receipt).

It runs in its own thread and event loop, so a test's loop, the worker in a subprocess and a
benchmark can all use it.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import threading
import time

import smpp34


class Smsc:
    def __init__(self, *, receipts: bool = True, receipt_delay: float = 0.0):
        self.receipts = receipts
        self.receipt_delay = receipt_delay
        self.submits: list[dict] = []  # accepted parts
        self.record_submits = True  # False (benchmarks): only count and time them, memory stays flat
        self.accepted = 0
        self.first_at: float | None = None  # the first and the latest accepted part (the rate)
        self.last_at: float | None = None
        self.refused: list[dict] = []
        self.planned: collections.deque[str] = collections.deque()
        self.binds = 0
        self.receipts_sent = 0
        self.receipt_errors: list[str] = []
        self._undelivered: list[tuple] = []
        self._drop_at: int | None = None
        self._dead_sessions: set[str] = set()
        self._sessions: dict[str, smpp34.Esme] = {}
        self._connections: list[tuple[asyncio.StreamWriter, asyncio.StreamWriter]] = []
        self._count = 0
        self.loop: asyncio.AbstractEventLoop | None = None
        self.port = 0
        self._ready = threading.Event()
        self._stopping: asyncio.Event | None = None
        self._lock = threading.Lock()

    # -- what a test asks for ----------------------------------------------------------------
    def plan(self, *outcomes: str) -> None:
        self.planned.extend(outcomes)

    def drop(self) -> None:
        """Cut every connection now (both directions, no unbind)."""
        asyncio.run_coroutine_threadsafe(self._drop(), self.loop).result(5)

    def drop_after(self, count: int) -> None:
        """Cut the connection when the part after the ``count``-th accepted one arrives."""
        self._drop_at = count

    def wait_for(self, predicate, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError("the SMSC did not get there in time")
            time.sleep(0.01)

    # -- the server ---------------------------------------------------------------------------
    async def _drop(self) -> None:
        self._dead_sessions.update(self._sessions)
        for client, upstream in self._connections:
            client.transport.abort()
            upstream.transport.abort()
        self._connections.clear()

    async def _proxy(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self._inner_port)
        self._connections.append((writer, up_writer))

        async def pipe(source, sink):
            try:
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            except Exception:
                pass
            finally:
                with contextlib.suppress(Exception):
                    sink.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    async def _receipt(self, event, message_id: str, state: str, err: str) -> None:
        if self.receipt_delay:
            await asyncio.sleep(self.receipt_delay)
        text = f"id:{message_id} sub:001 dlvrd:{'001' if state == 'DELIVRD' else '000'} submit date:2603100800 " \
               f"done date:2603100801 stat:{state} err:{err} text:"
        await self._push((event.source_addr, text.encode(), event.destination_addr), event.session_id)

    async def _push(self, receipt: tuple, session_id: str) -> None:
        """Send a receipt on the session, or keep it for the next bind (an SMSC stores them)."""
        esme = self._sessions.get(session_id)
        if esme is None or session_id in self._dead_sessions:
            live = [sid for sid in self._sessions if sid not in self._dead_sessions]
            if not live:
                self._undelivered.append(receipt)
                return
            esme = self._sessions[live[-1]]
        to, text, source = receipt
        try:
            await esme.deliver_sm(to, text, source_addr=source, esm_class=0x04)
            self.receipts_sent += 1
        except Exception as error:
            self.receipt_errors.append(repr(error))
            self._undelivered.append(receipt)

    async def _serve(self, server) -> None:
        while True:
            event = await server.next()
            if isinstance(event, smpp34.Esme):
                self.binds += 1
                self._sessions[event.session_id] = event
                kept, self._undelivered = self._undelivered, []
                for receipt in kept:
                    asyncio.get_running_loop().create_task(self._push(receipt, event.session_id))
            elif isinstance(event, smpp34.Unbound):
                self._sessions.pop(event.session_id, None)
            elif isinstance(event, smpp34.SubmitSmEvent):
                await self._submit(event)

    async def _submit(self, event) -> None:
        if event.session_id in self._dead_sessions:
            event.reject(smpp34.ESME_RSYSERR)  # never reaches the client: its connection is gone
            return
        if self._drop_at is not None and len(self.submits) >= self._drop_at:
            self._drop_at = None
            await self._drop()
            event.reject(smpp34.ESME_RSYSERR)
            return
        outcome = self.planned.popleft() if self.planned else "ok"
        record = {"to": event.destination_addr, "sender": event.source_addr, "data_coding": event.data_coding,
                  "esm_class": event.esm_class, "short_message": bytes(event.short_message), "outcome": outcome,
                  "registered_delivery": event.registered_delivery, "session": event.session_id}
        if outcome == "throttle" or outcome.startswith("reject:"):
            status = smpp34.ESME_RTHROTTLED if outcome == "throttle" else int(outcome.split(":", 1)[1], 0)
            self.refused.append(record)
            event.reject(status)
            return
        self._count += 1
        message_id = f"smsc-{self._count}"
        record["message_id"] = message_id
        state, err = ("UNDELIV", "001") if outcome == "undeliv" else ("DELIVRD", "000")
        if outcome == "receipt_first":
            await self._receipt(event, message_id, state, err)
        self.accepted += 1
        self.last_at = time.monotonic()
        if self.first_at is None:
            self.first_at = self.last_at
        if self.record_submits:
            self.submits.append(record)
        event.accept(message_id=message_id)
        if self.receipts and outcome != "receipt_first":
            asyncio.get_running_loop().create_task(self._receipt(event, message_id, state, err))

    def _run(self) -> None:
        async def main():
            self.loop = asyncio.get_running_loop()
            self._stopping = asyncio.Event()
            import socket

            with socket.socket() as probe:
                probe.bind(("127.0.0.1", 0))
                self._inner_port = probe.getsockname()[1]
            server = smpp34.Server(host="127.0.0.1", port=self._inner_port, system_id="TEST-SMSC")
            await server.start()
            proxy = await asyncio.start_server(self._proxy, "127.0.0.1", 0)
            self.port = proxy.sockets[0].getsockname()[1]
            serving = asyncio.create_task(self._serve(server))
            self._ready.set()
            await self._stopping.wait()
            serving.cancel()
            proxy.close()
            await self._drop()
            await server.stop()

        asyncio.run(main())

    def start(self) -> "Smsc":
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        self._ready.wait(10)
        return self

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self._stopping.set)
        self._thread.join(10)


@contextlib.contextmanager
def running_smsc(**options):
    smsc = Smsc(**options).start()
    try:
        yield smsc
    finally:
        smsc.stop()
