FROM golang:1.23 AS builder
FROM debian:12
COPY --from=builder /go/bin/app /usr/local/bin/
COPY --from=0 /etc/passwd /etc/passwd
COPY --from=ghcr.io/astral-sh/uv:0.5.0 /uv /bin/uv
COPY --chmod=0755 --from=busybox:1.36 /bin/busybox /bin/
COPY --from="quay.io/org/img:2" /a /b
