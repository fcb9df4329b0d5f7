FROM bitnami/minideb:bookworm
RUN install_packages curl ca-certificates
