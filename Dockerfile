# One image for both roles of Cordon, with only compiled JavaScript and the production dependencies in it:
# `node dist/api/main.js` (the HTTP API, reviewer console and user pages; the default) and
# `node dist/worker/main.js` (the case worker and its outbox dispatcher). Node is the container's process itself
# (no npm, no shell, no tsx in between), so the SIGTERM the orchestrator sends reaches Cordon, which drains
# (docs/deploy.md). No container engine runs on the development machines: test/signals.test.ts executes these
# steps in a scratch folder and runs the CMD, and test/deploy.test.ts checks this file against the code.

# Build: the TypeScript compiled into dist/ (tsconfig.build.json) and the workflow bundle prebuilt into
# dist/workflow-bundle.js, from the committed lock file.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY activities ./activities
COPY api ./api
COPY console ./console
COPY core ./core
COPY infra ./infra
COPY lab ./lab
COPY portal ./portal
COPY web ./web
COPY worker ./worker
COPY workflows ./workflows
# data/: an empty folder the runtime stage hands to the node user (see there).
RUN npm run build && mkdir -p data

# The production dependencies, from the same lock file; npm's cache stays behind in this stage.
FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
# A container is reached on its own interface, never its loopback: production requires CORDON_HOST to be said.
ENV NODE_ENV=production \
    CORDON_MODE=production \
    CORDON_HOST=0.0.0.0 \
    PORT=8080 \
    CORDON_WORKFLOW_BUNDLE=dist/workflow-bundle.js
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The policy the API and the worker read (CORDON_POLICY_FILE, default policy/default.json).
COPY policy ./policy
# Nothing lives here in production (Cordon's database and Temporal hold everything, with PostgreSQL in
# CORDON_DATABASE_URL); a deployment without PostgreSQL keeps its SQLite file and evidence files here and must
# mount a volume at /app/data to keep them across a container's replacement.
COPY --from=build --chown=node:node /app/data ./data
USER node

EXPOSE 8080
# The API by default; the worker's Deployment runs ["node", "dist/worker/main.js"]. The base image's entrypoint
# execs this command, so node is the process that receives SIGTERM.
CMD ["node", "dist/api/main.js"]
