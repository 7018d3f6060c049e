# Faxbot service image: current Node LTS, Ghostscript, non-root, health check on /health/ready.
ARG NODE_VERSION=26

FROM node:${NODE_VERSION}-slim AS build
WORKDIR /app
# better-sqlite3 is a native addon: build tools for the case where no prebuilt binary matches.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM node:${NODE_VERSION}-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ghostscript tini ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    FAX_DATA_DIR=/faxdata
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY assets ./assets
COPY manifests ./manifests
COPY config ./config
COPY scripts ./scripts
RUN mkdir -p /faxdata /hotfolder && chown node:node /faxdata /hotfolder
USER node
VOLUME ["/faxdata"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/health/ready').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# tini forwards SIGTERM so the service shuts down gracefully (finishes requests, leaves calls to reconcile).
ENTRYPOINT ["tini", "--"]
CMD ["node", "dist/src/main.js"]
