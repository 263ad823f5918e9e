# One image for every Node process of the lab: the seven services, the traffic generator and the
# lab's Alertmanager webhook. docker-compose.yml picks the process with `command:`, e.g.
#   node --require @shopnow/kit/telemetry services/orders/dist/main.js
# The same base image (exact tag, Debian slim) builds and runs, so native modules always match.
# Every process listens on $PORT (set by compose), which the HEALTHCHECK below probes.
# test/docker/image.test.ts builds and starts this image without a Docker engine (docs/architecture.md).

FROM node:24.21.0-trixie-slim AS build
WORKDIR /app
# Manifests first: the dependency layer is rebuilt only when a package.json or the lock changes.
COPY package.json package-lock.json ./
COPY services/kit/package.json services/kit/
COPY services/auth/package.json services/auth/
COPY services/catalog/package.json services/catalog/
COPY services/orders/package.json services/orders/
COPY services/payments/package.json services/payments/
COPY services/inventory/package.json services/inventory/
COPY services/notifications/package.json services/notifications/
COPY services/gateway/package.json services/gateway/
COPY services/traffic/package.json services/traffic/
COPY lab/package.json lab/
# npm's download cache survives between builds (BuildKit cache mount) and is read first, so a
# rebuild after a lock change fetches only what changed.
RUN --mount=type=cache,target=/root/.npm npm ci --prefer-offline --no-audit --no-fund
COPY tsconfig.base.json ./
COPY services services
COPY lab lab
# The projects the image runs, named one by one: the root tsconfig.json also references
# exercises/, which is the learner's and is not in this image (tsc -b would stop with TS5083).
RUN npx tsc -b services/* lab
# What the runtime needs of each workspace: its manifest, its compiled output, and the data its
# process reads at run time (the services' SQL migrations, the traffic generator's profiles.json).
RUN for dir in services/* lab; do \
      mkdir -p "/out/$dir" && cp "$dir/package.json" "/out/$dir/"; \
      for part in dist migrations profiles.json; do [ ! -e "$dir/$part" ] || cp -r "$dir/$part" "/out/$dir/"; done; \
    done

FROM node:24.21.0-trixie-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
COPY --from=build /out ./
# Production dependencies only; npm links the workspaces, so `@shopnow/kit/telemetry` resolves.
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --prefer-offline --no-audit --no-fund
COPY docker/healthcheck.sh /usr/local/bin/healthcheck.sh
# Files stay owned by root (read-only to the process); the process itself is unprivileged.
USER node
# Readiness of the process's own dependencies. bash's /dev/tcp makes the request: a ~4 MB shell
# per check rather than a ~60 MB node process inside a 136 MiB container (slim has no curl/wget).
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 CMD ["healthcheck.sh"]
