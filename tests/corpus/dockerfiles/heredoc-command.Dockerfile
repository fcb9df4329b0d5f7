FROM python:3.12
RUN <<EOF bash -ex
apt-get update
apt-get install -y jq
EOF
RUN python3 <<EOF
print('apt-get install -y not-a-package')
EOF
RUN cat <<EOF > /etc/apt/apt.conf.d/99local && apt-get install -y tree
APT::Install-Recommends "false";
EOF
COPY <<EOF /app/run.sh
#!/bin/sh
exec python3 -m app
EOF
RUN cat<<NOTAHEREDOC
