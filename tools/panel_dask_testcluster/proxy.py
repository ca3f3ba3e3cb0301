"""A loopback TCP proxy that a test can cut and restore: a real network outage.

Point one client (e.g. the operator's kubeconfig) at the proxy instead of the
apiserver; ``cut()`` then resets its open connections and refuses new ones
exactly as an unreachable server would, without touching anything else that
uses the server. TLS passes through untouched (the proxy never decrypts).
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import threading

BUFFER = 65536


class LoopbackProxy(threading.Thread):
    """Forward 127.0.0.1:<port> to ``target`` until cut; restorable on the same port."""

    def __init__(self, target_host: str, target_port: int) -> None:
        super().__init__(daemon=True, name=f"proxy-to-{target_port}")
        self.target = (target_host, target_port)
        self._listener = self._listen(0)
        self.port = int(self._listener.getsockname()[1])
        self._pairs: dict[socket.socket, socket.socket] = {}
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._listener, selectors.EVENT_READ)
        self._lock = threading.Lock()
        self._halt = threading.Event()
        self.connections = 0

    @staticmethod
    def _listen(port: int) -> socket.socket:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", port))
        listener.listen(64)
        listener.setblocking(False)
        return listener

    @property
    def url(self) -> str:
        """``https://127.0.0.1:<port>`` (for an apiserver behind it)."""
        return f"https://127.0.0.1:{self.port}"

    def run(self) -> None:
        """Relay bytes both ways until stopped."""
        while not self._halt.is_set():
            with self._lock:
                events = self._selector.select(timeout=0.1) if self._selector.get_map() else []
                for key, _ in events:
                    sock = key.fileobj
                    assert isinstance(sock, socket.socket)
                    if sock is self._listener:
                        self._accept()
                    else:
                        self._relay(sock)

    def _accept(self) -> None:
        with contextlib.suppress(BlockingIOError):
            client, _ = self._listener.accept()
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                return
            self.connections += 1
            for sock in (client, upstream):
                sock.setblocking(False)
                self._selector.register(sock, selectors.EVENT_READ)
            self._pairs[client], self._pairs[upstream] = upstream, client

    def _relay(self, sock: socket.socket) -> None:
        peer = self._pairs.get(sock)
        if peer is None:
            return
        try:
            data = sock.recv(BUFFER)
            if data:
                peer.setblocking(True)
                peer.sendall(data)
                peer.setblocking(False)
                return
        except OSError:
            pass
        self._close_pair(sock)

    def _close_pair(self, sock: socket.socket, reset: bool = False) -> None:
        peer = self._pairs.pop(sock, None)
        for s in (sock, peer):
            if s is None:
                continue
            self._pairs.pop(s, None)
            with contextlib.suppress(KeyError, ValueError):
                self._selector.unregister(s)
            if reset:  # RST instead of FIN, as when a host vanishes mid-connection
                with contextlib.suppress(OSError):
                    s.setsockopt(
                        socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
                    )
            s.close()

    def cut(self) -> None:
        """Reset every open connection and stop listening: the server is unreachable."""
        with self._lock:
            for sock in list(self._pairs):
                if sock in self._pairs:
                    self._close_pair(sock, reset=True)
            with contextlib.suppress(KeyError, ValueError):
                self._selector.unregister(self._listener)
            self._listener.close()

    def restore(self) -> None:
        """Listen again on the same port."""
        with self._lock:
            self._listener = self._listen(self.port)
            self._selector.register(self._listener, selectors.EVENT_READ)

    def stop(self) -> None:
        """Close everything and end the thread."""
        self.cut()
        self._halt.set()
        self.join(timeout=5)
