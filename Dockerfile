# syntax=docker/dockerfile:1.7
# One Dockerfile for every findme image; the build argument FINDME_SERVICE picks the
# service (gateway, auth, events or selfie). Build from the repository root:
#   docker build --build-arg FINDME_SERVICE=selfie -t findme-selfie .
# Render passes a service's environment variables to the build as build arguments,
# so render.yaml sets FINDME_SERVICE on each service; compose sets build.args.
# Without it the build stops (there is no stage "runtime-").
#
# Each image holds exactly its service's dependency set from the one uv.lock (only
# selfie has dlib and the face models), runs as an unprivileged user and starts its
# service with CMD and no ENTRYPOINT: a command given by compose, `docker run` or
# Render's dockerCommand / preDeployCommand replaces CMD and runs exactly as written.
# The events image also runs the migrations (python -m findme_events.migrate) and the
# photo worker (python -m findme_photo_worker).
ARG PYTHON_IMAGE=python:3.11-slim-bookworm
ARG UV_IMAGE=ghcr.io/astral-sh/uv:0.13.9
ARG FINDME_SERVICE

FROM ${UV_IMAGE} AS uv

# ---- build: resolve exactly this service's dependency set from uv.lock -----------
FROM ${PYTHON_IMAGE} AS build
ARG FINDME_SERVICE
COPY --from=uv /uv /usr/local/bin/uv
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /src
# Manifests first: the dependency layer stays cached until the lockfile changes.
# uv needs every workspace member's pyproject.toml to read the workspace.
COPY pyproject.toml uv.lock ./
COPY libs/common/pyproject.toml libs/common/
COPY services/gateway/pyproject.toml services/gateway/
COPY services/auth/pyproject.toml services/auth/
COPY services/events/pyproject.toml services/events/
COPY services/selfie/pyproject.toml services/selfie/
COPY devstack/pyproject.toml devstack/
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-install-workspace --package findme-${FINDME_SERVICE}
# Then the code: only the shared library and this service, installed as wheels
# (--no-editable) so the runtime image needs the virtualenv and nothing else.
COPY libs/common libs/common
COPY services/${FINDME_SERVICE} services/${FINDME_SERVICE}
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable --package findme-${FINDME_SERVICE}

# ---- runtime: what every image shares -------------------------------------------------
FROM ${PYTHON_IMAGE} AS base
RUN groupadd --system --gid 10001 findme \
 && useradd --system --uid 10001 --gid findme --home-dir /nonexistent --no-create-home \
    --shell /usr/sbin/nologin findme
COPY --from=build /app/.venv /app/.venv
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /app
USER findme

# ---- one stage per service: address, port, health check, command --------------------
# The health checks: python -m findme_common.probe (grpc.health.v1 SERVING, or the
# gateway's /livez; the port is the service's FINDME_<SERVICE>_PORT when set).

FROM base AS runtime-gateway
# Liveness: /livez answers while the gateway serves (/health is 503 while a backend
# is down; that is the backends' state, not a reason to restart the gateway).
ENV FINDME_GATEWAY_HOST=0.0.0.0 \
    FINDME_GATEWAY_PORT=8000
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=5s --start-period=10s --retries=3 \
  CMD ["python", "-m", "findme_common.probe", "http", "gateway", "8000", "/livez"]
CMD ["python", "-m", "findme_gateway"]

FROM base AS runtime-auth
ENV FINDME_AUTH_HOST=0.0.0.0 \
    FINDME_AUTH_PORT=50051
EXPOSE 50051
HEALTHCHECK --interval=10s --timeout=5s --start-period=15s --retries=3 \
  CMD ["python", "-m", "findme_common.probe", "grpc", "auth", "50051"]
CMD ["python", "-m", "findme_auth"]

FROM base AS runtime-events
# The local blob store's folder, owned by the service user (a fresh named volume
# takes the folder's owner from the image).
USER root
RUN mkdir -p /var/lib/findme/photos && chown findme:findme /var/lib/findme/photos
USER findme
ENV FINDME_EVENTS_HOST=0.0.0.0 \
    FINDME_EVENTS_PORT=50052
EXPOSE 50052
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
  CMD ["python", "-m", "findme_common.probe", "grpc", "events", "50052"]
CMD ["python", "-m", "findme_events"]

FROM base AS runtime-selfie
ENV FINDME_SELFIE_HOST=0.0.0.0 \
    FINDME_SELFIE_PORT=50053
EXPOSE 50053
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python", "-m", "findme_common.probe", "grpc", "selfie", "50053"]
CMD ["python", "-m", "findme_selfie"]

# ---- the image: the stage of the service asked for ------------------------------------
FROM runtime-${FINDME_SERVICE} AS runtime
