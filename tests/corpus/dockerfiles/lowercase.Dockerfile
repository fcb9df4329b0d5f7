from node:22-bookworm as build
arg NPM_VERSION=10.8.2
run npm install -g npm@${NPM_VERSION}
run apt-get install -y python3
from gcr.io/distroless/nodejs22-debian12:nonroot
copy --from=build /app /app
Run <<eof
echo mixed case
eof
