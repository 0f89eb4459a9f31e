"""A tiny DNS server on loopback for the nginx tests: it answers every A query with the
addresses it is told (one per gateway replica), as Docker's DNS answers for a compose
service name, and can be told new ones (a scaled or recreated service)."""

from __future__ import annotations

import socket
import struct
import threading

A, IN = 1, 1


class DnsServer:
    def __init__(self, addresses: list[str], ttl: int = 1) -> None:
        self.addresses = list(addresses)
        self.ttl = ttl
        self.queries = 0
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.settimeout(0.2)
        self.port = int(self._sock.getsockname()[1])
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> DnsServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._sock.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                query, client = self._sock.recvfrom(512)
            except TimeoutError:
                continue
            except OSError:
                return
            reply = self.answer(query)
            if reply:
                self._sock.sendto(reply, client)

    def answer(self, query: bytes) -> bytes | None:
        if len(query) < 12:
            return None
        (ident,) = struct.unpack("!H", query[:2])
        end = 12
        while end < len(query) and query[end] != 0:
            end += query[end] + 1
        question = query[12 : end + 5]  # name, its terminating 0, type, class
        if len(question) < 5:
            return None
        qtype, qclass = struct.unpack("!HH", question[-4:])
        self.queries += 1
        answers = self.addresses if (qtype, qclass) == (A, IN) else []
        header = struct.pack("!HHHHHH", ident, 0x8180, 1, len(answers), 0, 0)
        records = b"".join(
            struct.pack("!HHHIH", 0xC00C, A, IN, self.ttl, 4) + socket.inet_aton(address)
            for address in answers
        )
        return header + question + records
