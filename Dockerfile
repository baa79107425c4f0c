# syntax=docker/dockerfile:1
# andon runs TypeScript directly through tsx (a runtime dependency), so there is no compile step: the build stage only
# installs the production dependencies, and the runtime stage copies them beside the source.

FROM node:20-bookworm-slim AS dependencies
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    ANDON_DATA_DIR=/var/lib/andon
WORKDIR /app
COPY --from=dependencies /app/node_modules ./node_modules
# Source stays owned by root and read-only to the `node` user; only the data directory is writable.
COPY . .
RUN mkdir -p /var/lib/andon && chown node:node /var/lib/andon
USER node
VOLUME /var/lib/andon
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:3000/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "bin/andon.js", "start"]
