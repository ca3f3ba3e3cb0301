# The panel-dask operator image: one kopf process running dask-kubernetes'
# controller handlers and the queue autoscaler. Its arguments are the
# operator's (e.g. `--namespace NS`); liveness answers on :8080/healthz.
#
# Build from the repository root (`make images`):
#   docker build -f images/operator.Dockerfile \
#     --secret id=ca,src=/etc/ssl/certs/ca-certificates.crt -t panel-dask-operator:dev .

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
COPY operator/pyproject.toml operator/
# Dependencies first, against a placeholder package, so editing the operator's
# code reuses this (slow) layer.
RUN --mount=type=secret,id=ca --mount=type=cache,target=/root/.cache/pip \
    if [ -s /run/secrets/ca ]; then export PIP_CERT=/run/secrets/ca; fi \
    && mkdir -p operator/panel_dask_operator && touch operator/panel_dask_operator/__init__.py \
    && /opt/panel-dask/bin/pip install --quiet -c constraints.txt ./operator \
    && /opt/panel-dask/bin/pip uninstall --quiet --yes panel-dask-operator
COPY operator/ operator/
RUN --mount=type=secret,id=ca --mount=type=cache,target=/root/.cache/pip \
    if [ -s /run/secrets/ca ]; then export PIP_CERT=/run/secrets/ca; fi \
    && /opt/panel-dask/bin/pip install --quiet --no-deps -c constraints.txt ./operator \
    && /opt/panel-dask/bin/pip check

FROM ${BASE_IMAGE}
RUN echo 'panel-dask:x:1000:1000:panel-dask:/tmp:/usr/sbin/nologin' >>/etc/passwd \
    && echo 'panel-dask:x:1000:' >>/etc/group
COPY --from=builder /opt/panel-dask /opt/panel-dask
# Read-only root filesystem: HOME and caches point under /tmp, a volume.
ENV PATH=/opt/panel-dask/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    HOME=/tmp \
    XDG_CACHE_HOME=/tmp/.cache \
    XDG_CONFIG_HOME=/tmp/.config \
    DASK_CONFIG=/tmp/.config/dask \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
USER 1000:1000
WORKDIR /tmp
VOLUME ["/tmp"]
EXPOSE 8080
# Labels last: a new revision changes only the image's metadata.
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=unknown
ARG BASE_IMAGE
LABEL org.opencontainers.image.title="panel-dask-operator" \
      org.opencontainers.image.description="kopf operator: provisions Dask clusters and autoscales workers from the task queue" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.licenses="BSD-3-Clause" \
      org.opencontainers.image.base.name="${BASE_IMAGE}"
ENTRYPOINT ["python", "-m", "panel_dask_operator"]
