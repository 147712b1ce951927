# One image for both roles of Cordon: `npm run worker` (the case worker and its outbox dispatcher) and
# `npm run api` (the HTTP API, reviewer console and user pages). No build step: tsx runs the TypeScript.
# Not built on the development machines (no container engine there); test/deploy.test.ts checks it against
# the code.
FROM node:20-bookworm-slim

ENV NODE_ENV=production \
    CORDON_MODE=production \
    PORT=8080

WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

COPY activities ./activities
COPY api ./api
COPY console ./console
COPY core ./core
COPY infra ./infra
COPY lab ./lab
COPY policy ./policy
COPY portal ./portal
COPY scripts ./scripts
COPY worker ./worker
COPY workflows ./workflows
COPY tsconfig.json ./

# Cordon keeps nothing on local disk in production (PostgreSQL by CORDON_DATABASE_URL); the data folder only
# holds development secrets and must stay writable for the evidence store's files if it is not replaced.
RUN mkdir -p /app/data && chown node:node /app/data
USER node

EXPOSE 8080
# The API by default; the worker Deployment runs `npm run worker`. npm forwards SIGTERM to the process, which
# drains (the API closes its listener, the worker finishes its tasks) before it exits.
CMD ["npm", "run", "api"]
