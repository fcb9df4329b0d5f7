FROM debian:12
RUN --mount=type=cache,target=/var/cache/apt,sharing=locked \
    --mount=type=bind,from=ghcr.io/org/tools:1.2,source=/bin,target=/tools \
    apt-get update && apt-get install -y make
RUN --mount=type=cache,from=docker.io/library/alpine:3.20,target=/c echo hi
RUN --mount=type=secret,id=token cat /run/secrets/token
