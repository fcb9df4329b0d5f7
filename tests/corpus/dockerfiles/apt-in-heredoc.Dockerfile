FROM debian:12
RUN <<EOF
set -e
apt-get update
apt-get install -y --no-install-recommends \
    python3 \
    python3-venv
EOF
