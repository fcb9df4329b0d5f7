FROM --platform=$BUILDPLATFORM golang:1.23 AS Build
FROM --platform=linux/arm64 docker.io/library/debian:12@sha256:0000000000000000000000000000000000000000000000000000000000000000 AS arm
FROM build AS test
FROM scratch
COPY --from=Build /out /
