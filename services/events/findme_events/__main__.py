"""``python -m findme_events``: the events gRPC server (run ``findme_events.migrate`` first)."""

from findme_common.grpc_server import run

from findme_events.server import build

if __name__ == "__main__":
    run(build)
