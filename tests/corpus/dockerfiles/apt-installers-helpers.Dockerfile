FROM bitnami/minideb:bookworm
RUN install_packages curl ca-certificates
RUN apt-install git \
    jq
RUN /usr/share/dotnet/install-deps.sh
RUN /usr/share/app/setup install-deps --yes
