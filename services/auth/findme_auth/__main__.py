"""python -m findme_auth"""

from findme_common.grpc_server import run

from findme_auth.server import build

if __name__ == "__main__":
    run(build)
