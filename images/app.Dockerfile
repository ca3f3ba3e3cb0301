# The panel-dask app image: the Panel server, the Dask scheduler and the Dask
# workers all run from it, so tasks import identical code and library versions
# everywhere. Default command: `panel-dask-serve` on port 5006; run
# `dask scheduler ...` or `dask worker ...` by overriding the command.
#
# Build from the repository root (`make images`):
#   docker build -f images/app.Dockerfile \
#     --secret id=ca,src=/etc/ssl/certs/ca-certificates.crt -t panel-dask-app:dev .
# The optional `ca` secret is a PEM bundle pip trusts, for networks that inspect
# TLS; it never lands in a layer.

# python:3.11-slim-bookworm is the official image; `make images LOCAL_BASE=1`
# passes a locally built Debian bookworm base instead (no registry needed).
ARG BASE_IMAGE=python:3.11-slim-bookworm

FROM ${BASE_IMAGE} AS builder
ARG PIP_INDEX_URL
ARG PIP_EXTRA_INDEX_URL
ARG PIP_TRUSTED_HOST
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    PIP_DEFAULT_TIMEOUT=120
WORKDIR /src
RUN python3 -m venv /opt/panel-dask
COPY constraints.txt ./
COPY app/pyproject.toml app/
# Dependencies first, against a placeholder package, so editing the app's code
# reuses this (slow) layer and only the last install step reruns. The
# `scheduler` extra (app/pyproject.toml) is what `dask scheduler` needs from
# this image: the chart runs its scheduler from it, and the operator reads /metrics.
RUN --mount=type=secret,id=ca --mount=type=cache,target=/root/.cache/pip \
    if [ -s /run/secrets/ca ]; then export PIP_CERT=/run/secrets/ca; fi \
    && mkdir -p app/panel_dask_app && touch app/panel_dask_app/__init__.py \
    && /opt/panel-dask/bin/pip install --quiet -c constraints.txt './app[scheduler]' \
    && /opt/panel-dask/bin/pip uninstall --quiet --yes panel-dask-app
COPY app/ app/
RUN --mount=type=secret,id=ca --mount=type=cache,target=/root/.cache/pip \
    if [ -s /run/secrets/ca ]; then export PIP_CERT=/run/secrets/ca; fi \
    && /opt/panel-dask/bin/pip install --quiet --no-deps -c constraints.txt ./app \
    && /opt/panel-dask/bin/pip check

FROM ${BASE_IMAGE}
# A passwd entry for uid 1000: Python's getpass and some libraries look the
# user up by id. The uid stays numeric so Kubernetes can verify runAsNonRoot.
RUN echo 'panel-dask:x:1000:1000:panel-dask:/tmp:/usr/sbin/nologin' >>/etc/passwd \
    && echo 'panel-dask:x:1000:' >>/etc/group
COPY --from=builder /opt/panel-dask /opt/panel-dask
# The root filesystem may be read-only: everything that writes (HOME, Dask's
# config and worker spill directory, caches) points under /tmp, a volume.
ENV PATH=/opt/panel-dask/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    HOME=/tmp \
    XDG_CACHE_HOME=/tmp/.cache \
    XDG_CONFIG_HOME=/tmp/.config \
    DASK_CONFIG=/tmp/.config/dask \
    DASK_TEMPORARY_DIRECTORY=/tmp \
    MPLCONFIGDIR=/tmp/.config/matplotlib \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PANEL_ADDRESS=0.0.0.0 \
    PANEL_PORT=5006
USER 1000:1000
WORKDIR /tmp
VOLUME ["/tmp"]
# 5006 Panel, 8786 Dask scheduler, 8787 Dask dashboard.
EXPOSE 5006 8786 8787
# Labels last: a new revision changes only the image's metadata.
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=unknown
ARG BASE_IMAGE
LABEL org.opencontainers.image.title="panel-dask-app" \
      org.opencontainers.image.description="Panel server, Dask scheduler and Dask worker for panel-dask" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.licenses="BSD-3-Clause" \
      org.opencontainers.image.base.name="${BASE_IMAGE}"
CMD ["panel-dask-serve"]
