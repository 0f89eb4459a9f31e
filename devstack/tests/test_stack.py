"""Ports of the stack: free-port checks as the servers bind, and a data folder that
serves one stack at a time."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from findme_devstack.stack import Stack, StackConfig, StackError, port_is_free


def _time_wait_port() -> int:
    """A port whose listener is gone, with a connection it closed first still in
    TIME_WAIT (what a stopped server leaves for a minute). The listener sets
    SO_REUSEADDR, as uvicorn and gRPC do."""
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = int(listener.getsockname()[1])
    client = socket.create_connection(("127.0.0.1", port))
    accepted, _ = listener.accept()
    accepted.close()  # the server side closes first: its end waits in TIME_WAIT
    client.recv(1)
    client.close()
    listener.close()
    return port


def test_a_port_left_in_time_wait_is_free_to_a_server_a_listened_one_is_not() -> None:
    port = _time_wait_port()
    # Without SO_REUSEADDR (the old check) the port looked busy.
    with socket.socket() as plain, pytest.raises(OSError):
        plain.bind(("127.0.0.1", port))
    assert port_is_free(port)

    with socket.socket() as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        assert not port_is_free(int(listener.getsockname()[1]))


def test_a_data_folder_serves_one_stack_at_a_time(tmp_path: Path) -> None:
    first = Stack(StackConfig(data_dir=tmp_path))
    first._lock_data_dir()
    try:
        with pytest.raises(StackError, match="another findme stack is running with data in"):
            Stack(StackConfig(data_dir=tmp_path))._lock_data_dir()
    finally:
        first.stop()
    second = Stack(StackConfig(data_dir=tmp_path))
    second._lock_data_dir()  # free again once the first one stopped
    second.stop()


def test_a_busy_gateway_port_is_refused_before_anything_starts(tmp_path: Path) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = int(listener.getsockname()[1])
        stack = Stack(StackConfig(data_dir=tmp_path, gateway_port=port))
        with pytest.raises(StackError, match=f"gateway port {port} is in use"):
            stack.start()
    assert not (tmp_path / "postgres").exists()
