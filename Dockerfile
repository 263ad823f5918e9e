# One image for every Node process of the lab: the seven services, the lab's Alertmanager webhook
# and the traffic generator. docker-compose.yml picks the process with `command:`, e.g.
#   node --require @shopnow/kit/telemetry services/orders/dist/main.js
# The same base image (exact tag, Debian slim) builds and runs, so native modules always match.
# Every process listens on $PORT (set by compose), which the HEALTHCHECK below probes.

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
COPY lab/package.json lab/
RUN npm ci --no-audit --no-fund
COPY tsconfig.base.json tsconfig.json ./
COPY services services
COPY lab lab
RUN npx tsc -b
# What the runtime needs of each workspace: its manifest, its compiled output and its migrations.
RUN for dir in services/* lab; do \
      mkdir -p "/out/$dir" && cp "$dir/package.json" "/out/$dir/"; \
      for part in dist migrations; do [ ! -d "$dir/$part" ] || cp -r "$dir/$part" "/out/$dir/"; done; \
    done

FROM node:24.21.0-trixie-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
COPY --from=build /out ./
# Production dependencies only; npm links the workspaces, so `@shopnow/kit/telemetry` resolves.
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
# Files stay owned by root (read-only to the process); the process itself is unprivileged.
USER node
# Readiness of the process's own dependencies. Slim images have no curl: Node's fetch does it.
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + process.env.PORT + '/health/ready').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
