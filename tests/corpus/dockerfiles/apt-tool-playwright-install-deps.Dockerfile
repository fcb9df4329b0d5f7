FROM node:22-bookworm
RUN npx playwright install-deps \
    chromium
RUN playwright install-deps
