# keel worker and model server image (used by docker-compose.yml).
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev --ignore-scripts
COPY . .
ENV NODE_ENV=production KEEL_DATA_DIR=/data KEEL_HOST=0.0.0.0
VOLUME /data
CMD ["npm", "run", "worker"]
