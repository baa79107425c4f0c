# syntax=docker/dockerfile:1
# andon runs TypeScript directly through tsx (a runtime dependency), so there is no compile step: the build stage only
# installs the production dependencies, and the runtime stage copies them beside the source.
#
#   docker build -t andon:local .                           # pg_dump 17, for docker-compose.yml's pgvector/pgvector:pg17
#   docker build --build-arg PG_MAJOR=18 -t andon:local .   # a newer server needs a pg_dump at least as new

ARG NODE_IMAGE=node:20-bookworm-slim
# The PostgreSQL client tools for `andon db backup|restore` against a server. pg_dump refuses a server newer than
# itself and dumps every older one, so this must be the server's major version or newer (15 at the least).
ARG PG_MAJOR=17

FROM ${NODE_IMAGE} AS dependencies
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM ${NODE_IMAGE}
ARG PG_MAJOR
# Only pg_dump, pg_restore and psql from the PostgreSQL project's apt repository (Debian bookworm itself ships 15):
# no server, no compiler. The repository key is fetched with node, so no curl or gnupg stays in the image.
RUN set -eux; \
    test "${PG_MAJOR}" -ge 15; \
    apt-get update; \
    apt-get install -y --no-install-recommends ca-certificates; \
    install -d /usr/share/postgresql-common/pgdg; \
    node -e "fetch('https://www.postgresql.org/media/keys/ACCC4CF8.asc').then(async (r) => { if (!r.ok) throw new Error('key: ' + r.status); require('node:fs').writeFileSync('/usr/share/postgresql-common/pgdg/apt.postgresql.org.asc', await r.text()); })"; \
    . /etc/os-release; \
    echo "deb [signed-by=/usr/share/postgresql-common/pgdg/apt.postgresql.org.asc] https://apt.postgresql.org/pub/repos/apt ${VERSION_CODENAME}-pgdg main" \
      > /etc/apt/sources.list.d/pgdg.list; \
    apt-get update; \
    apt-get install -y --no-install-recommends "postgresql-client-${PG_MAJOR}"; \
    rm -rf /var/lib/apt/lists/*; \
    pg_dump --version | grep -q " ${PG_MAJOR}\."; \
    pg_restore --version | grep -q " ${PG_MAJOR}\."
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
