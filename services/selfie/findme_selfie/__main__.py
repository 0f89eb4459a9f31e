"""``python -m findme_selfie``: serve SelfieService until SIGTERM."""

from findme_common.grpc_server import run

from findme_selfie.server import build

if __name__ == "__main__":
    run(build)
