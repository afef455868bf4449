# The box image — the deploy issue adds cloudflared, the non-root user and the supervised entrypoint.
FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY box ./box
RUN npm run build:box && npm prune --omit=dev

FROM node:22-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends git ripgrep ca-certificates && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist/box.mjs ./dist/box.mjs
ENV OCWEB_DATA=/vol BOX_HOST=0.0.0.0
CMD ["node", "--max-semi-space-size=1", "dist/box.mjs"]
