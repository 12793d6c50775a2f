# agent-runtime server image (see docs/operations.md, "Running in Docker").
#   docker build -t agent-runtime .
#   docker run -d --name agent-runtime -p 127.0.0.1:8585:8585 \
#     -v agent-runtime:/var/lib/agent-runtime agent-runtime

# Why: one value for both stages, so the native modules built below load in the runtime image.
ARG NODE_VERSION=22

# ---- build: install everything, compile native modules and TypeScript, drop dev dependencies
FROM node:${NODE_VERSION}-bookworm AS build
WORKDIR /app
# Why: manifests first, so the slow `npm ci` layer is reused when only src/ changes.
COPY package.json package-lock.json .npmrc ./
# Why: `npm ci` runs our own install script, which builds the job launcher (native/launcher).
COPY scripts/build-launcher.mjs ./scripts/
COPY native ./native
# Why: this full image already has python3, make and g++, which node-gyp needs for better-sqlite3,
# node-pty and the launcher.
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build
RUN npm prune --omit=dev

# ---- runtime: Node, tini, the pruned node_modules, dist/ and web/
FROM node:${NODE_VERSION}-bookworm-slim

# Why: tini as PID 1 reaps orphaned job processes; the server waits for a job's process group to be
# empty, and unreaped zombies would pile up in the container.
RUN apt-get update \
    && apt-get install -y --no-install-recommends tini \
    && rm -rf /var/lib/apt/lists/*

# Why: a fixed uid/gid keeps the volume's ownership stable across rebuilds; the state dir is created
# here, owned by that user and 0700, before VOLUME, so a new named volume starts with that owner and mode.
RUN groupadd --gid 10001 agent \
    && useradd --uid 10001 --gid agent --create-home --home-dir /home/agent --shell /bin/bash agent \
    && mkdir -p /var/lib/agent-runtime \
    && chown agent:agent /var/lib/agent-runtime \
    && chmod 0700 /var/lib/agent-runtime

# Why no NODE_ENV=production: jobs inherit the server's environment, and npm run by a job would then
# skip devDependencies.
ENV HOME=/home/agent \
    AGENT_RUNTIME_HOME=/var/lib/agent-runtime

WORKDIR /app
# Why: root-owned copies, so jobs (running as agent) cannot modify the server's own code.
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The job launcher (jobs start off the event loop); without it the server falls back to spawn, slower.
COPY --from=build /app/native/launcher/build/Release/agent-launcher ./native/launcher/build/Release/agent-launcher
# The web terminal page (GET /); xterm.js itself comes from node_modules.
COPY web ./web

# Why: numeric, so runtimes that enforce "run as non-root" (e.g. Kubernetes runAsNonRoot) can check it.
USER 10001:10001
VOLUME ["/var/lib/agent-runtime"]
# 8585: HTTP API and terminal WebSocket; 8586: devpilot-compatible terminal port (port + 1).
EXPOSE 8585 8586

# Why: the slim image has no curl; unauthenticated GET /health answers 200 without a key.
# Plain HTTP on the loopback: override this check when serving TLS or changing --port.
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
    CMD ["node", "-e", "require('node:http').get('http://127.0.0.1:8585/health', (r) => process.exit(r.statusCode === 200 ? 0 : 1)).on('error', () => process.exit(1))"]

# Why: `--` stops tini from reading the server's flags as its own.
ENTRYPOINT ["/usr/bin/tini", "--"]
# Why 0.0.0.0: inside a container the loopback is unreachable from the published port.
CMD ["node", "dist/cli.js", "--host", "0.0.0.0", "--port", "8585"]
