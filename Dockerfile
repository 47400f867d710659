# syntax=docker/dockerfile:1
# Multi-stage: build with dev dependencies, run with production ones only, as a non-root user.
FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# patches/ before npm ci: its postinstall patches kafkajs (src/kafka/kafkajs-patch.ts says why).
COPY patches ./patches
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM node:20-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
COPY topics ./topics
RUN mkdir -p /data && chown node:node /data
USER node
ENV CHARIOTS_DATA_DIR=/data
EXPOSE 8080 8081 8082 9000
ENTRYPOINT ["node", "/app/bin/chariots.js"]
CMD ["--help"]
