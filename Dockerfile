# The box image: Node 22, git, ripgrep, opencode (npm, pinned by package-lock.json) and cloudflared.
# docker/entrypoint.sh runs the box (which runs opencode) and the tunnel side by side. State lives on the
# volume at /vol. Build context: the repo root (see .dockerignore). README, "Deploy", explains the rest.

FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# No install scripts: the box needs none (opencode's binary comes from its platform package).
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.base.json ./
COPY lib ./lib
COPY box ./box
RUN npm run build:box && npm prune --omit=dev --no-audit --no-fund

# cloudflared: Cloudflare's release binary, pinned by version and SHA-256 (from the release notes).
FROM node:22-bookworm-slim AS cloudflared
ARG TARGETARCH
ARG CLOUDFLARED_VERSION=2026.8.2
ARG CLOUDFLARED_SHA256_AMD64=fcfb02b575a52ca1af2e3267af4e1517bcdeb30ac48c834c69abaed3c0576ad2
ARG CLOUDFLARED_SHA256_ARM64=7747d94570fb390cf47dcb4f9555c193c6355cda9793f0d878d9049e5d6a7790
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates curl && rm -rf /var/lib/apt/lists/*
RUN set -eu; \
    arch="${TARGETARCH:-$(dpkg --print-architecture)}"; \
    case "$arch" in \
      amd64) sum="$CLOUDFLARED_SHA256_AMD64" ;; \
      arm64) sum="$CLOUDFLARED_SHA256_ARM64" ;; \
      *) echo "no pinned cloudflared for $arch" >&2; exit 1 ;; \
    esac; \
    curl -fsSL -o /cloudflared "https://github.com/cloudflare/cloudflared/releases/download/${CLOUDFLARED_VERSION}/cloudflared-linux-${arch}"; \
    echo "$sum  /cloudflared" | sha256sum -c -; \
    chmod 755 /cloudflared

FROM node:22-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends git ripgrep ca-certificates && rm -rf /var/lib/apt/lists/*
# The user the box, opencode and cloudflared run as; the entrypoint hands it the volume, then drops root.
RUN groupadd --gid 10001 ocweb && useradd --uid 10001 --gid ocweb --create-home --shell /usr/sbin/nologin ocweb
COPY --from=cloudflared /cloudflared /usr/local/bin/cloudflared
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist/box.mjs ./dist/box.mjs
COPY docker/entrypoint.sh ./docker/entrypoint.sh
ENV OCWEB_DATA=/vol OCWEB_USER=ocweb BOX_HOST=0.0.0.0 BOX_PORT=8790
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.BOX_PORT}/healthz`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["/bin/sh", "/app/docker/entrypoint.sh"]
