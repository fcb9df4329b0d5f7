FROM debian:12
RUN ["apt-get", "install", "-y", "curl"]
RUN ["/bin/sh", "-c", "apt-get update && apt-get install -y git"]
ADD ["https://example.com/a.tar.gz", "/tmp/"]
COPY ["src dir/", "/app/"]
ENTRYPOINT ["/entry"]
CMD [ "--help" ]
RUN [ -f /etc/os-release ] && cat /etc/os-release
RUN ["echo", "<<EOF"] <<EOF
HEALTHCHECK CMD ["curl", "-f", "http://localhost/"]
