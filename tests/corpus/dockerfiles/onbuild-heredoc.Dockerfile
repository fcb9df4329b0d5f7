FROM debian:12
ONBUILD RUN <<EOF
echo in a child build
EOF
ONBUILD COPY . /app
