FROM python:3.12
RUN --mount="type=cache,target=/root/.cache/pip" pip install --require-hashes -r r.txt
COPY --chown="app:app" --from="python:3.12-slim" /usr /usr
RUN --network=none -- echo done
