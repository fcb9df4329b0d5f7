FROM debian:12
RUN /usr/share/dotnet/install-deps.sh
RUN /usr/share/app/setup install-deps --yes
