# keel worker and model server image (used by docker-compose.yml).

# Dependencies: install with dev dependencies so patch-package can apply patches/ (postgres.js
# otherwise never settles a COPY the server rejects: porsager/postgres#1173, not fixed in 3.4.10),
# then drop the dev dependencies. Install scripts stay off: the patch is the one that matters.
FROM node:20-bookworm-slim AS dependencies
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
COPY patches ./patches
RUN npm ci --ignore-scripts --no-audit --no-fund \
  && npx patch-package --error-on-fail \
  && npm prune --omit=dev --no-audit --no-fund \
  && grep -q 'final && (final(err), final = null)' node_modules/postgres/src/connection.js

FROM node:20-bookworm-slim
WORKDIR /app
COPY --from=dependencies /app/node_modules ./node_modules
COPY . .
ENV NODE_ENV=production KEEL_DATA_DIR=/data KEEL_HOST=0.0.0.0
VOLUME /data
CMD ["npm", "run", "worker"]
