FROM mcr.microsoft.com/playwright:v1.49.0-noble
RUN npx -y playwright@1.49.0 install --with-deps chromium
RUN pnpm exec playwright install --with-deps
RUN python3 -m playwright install --with-deps firefox
RUN npx playwright install chromium
