"""A headless browser tab for a Bokeh/Panel server: HTTP GET, websocket, Bokeh's own protocol.

Benchmarks need tens to hundreds of sessions on 2 cores; a chromium per session
would measure chromium. This client does what bokehjs does on the wire and no
more: GET the page (the server builds the session there), open ``<page>/ws``
with the session token as subprotocol and a browser's Origin header, pull the
document, announce ``document_ready``, then send model changes and button
clicks as PATCH-DOC messages and timestamp the server's PATCH-DOC replies as
they arrive. Nothing is rendered, so a latency here is the server's and the
network's, without a browser's layout and paint.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from bokeh.client.websocket import WebSocketClientConnectionWrapper
from bokeh.protocol import Protocol
from bokeh.protocol.messages.patch_doc import patch_doc
from bokeh.protocol.receiver import Receiver
from tornado.httpclient import AsyncHTTPClient, HTTPRequest
from tornado.websocket import websocket_connect

_TOKEN = re.compile(r'"token"\s*:\s*"([^"]+)"')
_PROTOCOL = Protocol()
_ids = itertools.count(1)

Event = dict[str, Any]
Predicate = Callable[[Event], bool]


class SessionError(RuntimeError):
    """The page or its websocket did not behave like a Bokeh server's."""


@dataclass
class Model:
    """One model of the pulled document: its type name and attributes as first sent."""

    id: str
    name: str
    attributes: dict[str, Any]


@dataclass
class _Waiter:
    predicate: Predicate
    future: asyncio.Future[tuple[float, Event]]


@dataclass
class BrowserlessSession:
    """One session of ``base_url + path``, as a tab that never renders."""

    base_url: str
    path: str
    models: dict[str, Model] = field(default_factory=dict)
    # Each ColumnDataSource's columns as the browser would hold them, kept up to
    # date from whole replacements, streamed rows and patched cells.
    sources: dict[str, dict[str, list[Any]]] = field(default_factory=dict)
    received: int = 0
    opened_at: float = 0.0
    _ws: Any = None
    _reader: asyncio.Task[None] | None = None
    _waiters: list[_Waiter] = field(default_factory=list)
    _closed: bool = False

    async def open(self, within: float = 60.0) -> BrowserlessSession:
        """GET the page, connect its websocket, pull the document, send ``document_ready``."""
        started = time.perf_counter()
        response = await AsyncHTTPClient().fetch(
            f"{self.base_url}{self.path}", request_timeout=within, raise_error=False
        )
        if response.code != 200:
            raise SessionError(f"GET {self.path} answered {response.code}")
        match = _TOKEN.search(response.body.decode())
        if match is None:
            raise SessionError(f"GET {self.path}: no session token in the page")
        ws_url = self.base_url.replace("http", "ws", 1) + self.path.rstrip("/") + "/ws"
        request = HTTPRequest(ws_url, headers={"Origin": self.base_url}, request_timeout=within)
        socket = await websocket_connect(
            request, subprotocols=["bokeh", match.group(1)], max_message_size=256 * 2**20
        )
        # Browsers send with TCP_NODELAY; without it, Nagle holds the 2nd and 3rd frame of
        # every Bokeh message until the server's delayed ACK (~40 ms on Linux).
        socket.protocol.set_nodelay(True)
        self._ws = WebSocketClientConnectionWrapper(socket)
        receiver = Receiver(_PROTOCOL)
        ack = await asyncio.wait_for(self._read(receiver), within)
        if ack.msgtype != "ACK":
            raise SessionError(f"expected ACK, got {ack.msgtype}")
        await _PROTOCOL.create("PULL-DOC-REQ").send(self._ws)
        reply = await asyncio.wait_for(self._read(receiver), within)
        while reply.msgtype == "PATCH-DOC":  # changes made before the pull; the doc has them
            reply = await asyncio.wait_for(self._read(receiver), within)
        if reply.msgtype != "PULL-DOC-REPLY":
            raise SessionError(f"expected PULL-DOC-REPLY, got {reply.msgtype}")
        doc = reply.content["doc"]
        if reply.buffers:
            doc = _with_buffers(doc, {str(b.id): bytes(b.data) for b in reply.buffers})
        for model in _objects(doc):
            self.models[model["id"]] = Model(
                model["id"], model["name"], model.get("attributes", {})
            )
            if model["name"].endswith("ColumnDataSource") and "data" in model.get("attributes", {}):
                self.sources[model["id"]] = columns({"data": model["attributes"]["data"]})
        self._reader = asyncio.get_running_loop().create_task(self._read_forever(receiver))
        await self._send_events([_event("document_ready", {})])
        self.opened_at = time.perf_counter() - started
        return self

    def find(self, name: str, **attributes: Any) -> str:
        """The id of the one model whose type name ends with ``name`` and has ``attributes``.

        A list attribute matches when it contains the wanted value (``css_classes``).
        """
        hits = [
            model.id
            for model in self.models.values()
            if model.name.split(".")[-1] == name
            and all(_matches(model.attributes.get(k), v) for k, v in attributes.items())
        ]
        if len(hits) != 1:
            raise SessionError(f"{len(hits)} models {name} with {attributes} in {self.path}")
        return hits[0]

    def expect(self, predicate: Predicate) -> asyncio.Future[tuple[float, Event]]:
        """A future for the next incoming document event matching ``predicate``.

        Resolves with (``time.perf_counter()`` at arrival, the event). Register it
        before sending what causes it, so a fast reply is not missed.
        """
        future: asyncio.Future[tuple[float, Event]] = asyncio.get_running_loop().create_future()
        self._waiters.append(_Waiter(predicate, future))
        return future

    async def change(self, model_id: str, attr: str, value: Any) -> float:
        """Send a property change as the browser does when a user edits a widget; returns when."""
        event = {"kind": "ModelChanged", "model": {"id": model_id}, "attr": attr, "new": value}
        return await self._send_events([event])

    async def click(self, model_id: str) -> float:
        """Send a button click; returns the perf_counter time it was sent."""
        model = {"id": model_id}
        return await self._send_events([_event("button_click", {"model": model})])

    async def close(self) -> None:
        """Close the websocket (the server destroys the session after its check interval)."""
        self._closed = True
        if self._ws is not None:
            self._ws.close()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader
        for waiter in self._waiters:
            waiter.future.cancel()
        self._waiters.clear()

    async def _send_events(self, events: list[Event]) -> float:
        if self._closed:
            raise SessionError("session closed")
        message = patch_doc(patch_doc.create_header(), {}, {"events": events})
        sent = time.perf_counter()
        await message.send(self._ws)
        return sent

    async def _read(self, receiver: Receiver) -> Any:
        while True:
            fragment = await self._ws.read_message()
            if fragment is None:
                raise SessionError(f"{self.path}: the server closed the websocket")
            message = await receiver.consume(fragment)
            if message is not None:
                return message

    async def _read_forever(self, receiver: Receiver) -> None:
        while not self._closed:
            try:
                message = await self._read(receiver)
            except SessionError:
                if not self._closed:
                    for waiter in self._waiters:
                        if not waiter.future.done():
                            waiter.future.set_exception(SessionError("websocket closed"))
                return
            arrived = time.perf_counter()
            if message.msgtype != "PATCH-DOC":
                continue
            self.received += 1
            buffers = {str(buffer.id): bytes(buffer.data) for buffer in message.buffers}
            for event in message.content.get("events", []):
                self._dispatch(arrived, _with_buffers(event, buffers) if buffers else event)

    def _dispatch(self, arrived: float, event: Event) -> None:
        _apply_to_sources(self.sources, event)
        kept = []
        for waiter in self._waiters:
            if waiter.future.done():
                continue
            if waiter.predicate(event):
                waiter.future.set_result((arrived, event))
            else:
                kept.append(waiter)
        self._waiters = kept


def _event(name: str, values: dict[str, Any]) -> Event:
    """A ``MessageSent`` document event carrying a Bokeh UI event, as bokehjs encodes it."""
    return {
        "kind": "MessageSent",
        "msg_type": "bokeh_event",
        "msg_data": {
            "type": "event",
            "name": name,
            "values": {"type": "map", "entries": [[k, v] for k, v in values.items()]},
        },
    }


def _apply_to_sources(sources: dict[str, dict[str, list[Any]]], event: Event) -> None:
    """Update the mirrored column data with one document event, as bokehjs would."""
    source = event.get("model", {}).get("id")
    kind = event.get("kind")
    if kind == "ColumnDataChanged" or (kind == "ModelChanged" and event.get("attr") == "data"):
        if kind == "ColumnDataChanged" and event.get("cols") is not None and source in sources:
            sources[source].update(columns(event))
        else:
            sources[source] = columns(event)
    elif kind == "ColumnsStreamed" and source in sources:
        for name, values in _entries(event["data"]):
            sources[source].setdefault(name, []).extend(decode_array(values))
        rollover = event.get("rollover")
        if rollover:
            for name, values in sources[source].items():
                sources[source][name] = values[-rollover:]
    elif kind == "ColumnsPatched" and source in sources:
        for name, changes in _entries(event["patches"]):
            column = sources[source].setdefault(name, [])
            for index, value in changes:
                if not isinstance(index, int):
                    raise SessionError(f"unsupported patch index {index!r}")
                column[index] = value


def _entries(rep: Any) -> list[tuple[str, Any]]:
    """The (key, value) pairs of a Bokeh-serialized map (or a plain dict)."""
    if isinstance(rep, dict) and rep.get("type") == "map":
        return [(key, value) for key, value in rep["entries"]]
    if isinstance(rep, dict):
        return list(rep.items())
    raise SessionError(f"not a map: {str(rep)[:80]}")


def _with_buffers(node: Any, buffers: dict[str, bytes]) -> Any:
    """``node`` with every ``{"id": ...}`` that names a binary buffer replaced by its bytes."""
    if isinstance(node, dict):
        if set(node) == {"id"} and node["id"] in buffers:
            return buffers[node["id"]]
        return {key: _with_buffers(value, buffers) for key, value in node.items()}
    if isinstance(node, list):
        return [_with_buffers(value, buffers) for value in node]
    return node


def decode_array(rep: Any) -> list[Any]:
    """A Bokeh-serialized array (plain list, or ``ndarray`` of inline/base64/binary bytes)."""
    if isinstance(rep, list):
        return rep
    if not isinstance(rep, dict) or rep.get("type") != "ndarray":
        raise SessionError(f"not an array: {str(rep)[:80]}")
    array = rep["array"]
    if isinstance(array, list):
        return array
    data = array["data"]
    raw = data if isinstance(data, bytes) else base64.b64decode(data)
    dtype = np.dtype(rep["dtype"]).newbyteorder("<" if rep.get("order") == "little" else ">")
    return np.frombuffer(raw, dtype=dtype).tolist()


def columns(event: Event) -> dict[str, list[Any]]:
    """The columns of a ``ColumnDataChanged`` event (or a ``ModelChanged`` of ``data``)."""
    data = event.get("data", event.get("new"))
    if not isinstance(data, dict):
        raise SessionError("not a column data event")
    return {name: decode_array(values) for name, values in _entries(data)}


def _matches(actual: Any, wanted: Any) -> bool:
    if isinstance(actual, list) and not isinstance(wanted, list):
        return wanted in actual
    return bool(actual == wanted)


def _objects(tree: Any) -> Iterator[dict[str, Any]]:
    """Every serialized model (``{"type": "object", "id": ...}``) anywhere in ``tree``."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if node.get("type") == "object" and "id" in node and "name" in node:
                yield node
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def changed(model_id: str, attr: str, test: Callable[[Any], bool] = lambda _: True) -> Predicate:
    """A predicate for ``ModelChanged`` of ``model_id.attr`` whose new value passes ``test``."""

    def predicate(event: Event) -> bool:
        return (
            event.get("kind") == "ModelChanged"
            and event.get("model", {}).get("id") == model_id
            and event.get("attr") == attr
            and test(event.get("new"))
        )

    return predicate


def unique_id() -> int:
    """A process-wide counter, for values that must differ on every action."""
    return next(_ids)
