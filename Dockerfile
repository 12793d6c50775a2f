# agent-runtime server image (see docs/operations.md, "Running in Docker").
#   docker build -t agent-runtime .
#   docker run -d --name agent-runtime -p 127.0.0.1:8585:8585 \
#     -v agent-runtime:/var/lib/agent-runtime -v agent-home:/home/agent \
#     -v agent-workspace:/workspace agent-runtime

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

# ---- runtime: Node, tini, git, curl, the pruned node_modules, dist/ and web/
FROM node:${NODE_VERSION}-bookworm-slim

# Why: tini as PID 1 reaps orphaned job processes; the server waits for a job's process group to be
# empty, and unreaped zombies would pile up in the container.
# git, curl and ca-certificates: what jobs of a coding agent run first (`git clone https://…`).
RUN apt-get update \
    && apt-get install -y --no-install-recommends tini git curl ca-certificates \
    && rm -rf /var/lib/apt/lists/*

# Why: a fixed uid/gid keeps the volume's ownership stable across rebuilds; the state dir is created
# here, owned by that user and 0700, before VOLUME, so a new named volume starts with that owner and mode.
RUN groupadd --gid 10001 agent \
    && useradd --uid 10001 --gid agent --create-home --home-dir /home/agent --shell /bin/bash agent \
    && mkdir -p /var/lib/agent-runtime /workspace \
    && chown agent:agent /var/lib/agent-runtime /workspace /home/agent \
    && chmod 0700 /var/lib/agent-runtime

# Why no NODE_ENV=production: jobs inherit the server's environment, and npm run by a job would then
# skip devDependencies.
# Host and port come from the environment (the server reads AGENT_RUNTIME_*), so `-e
# AGENT_RUNTIME_PORT=9000` or TLS variables need no new CMD, and the HEALTHCHECK follows them.
# Why 0.0.0.0: inside a container the loopback is unreachable from the published port.
# AGENT_RUNTIME_CONTAINER: `agent-server update --check` and the wrapper then say that updates come
# from a new image (there is no git checkout or npm install inside to update).
ENV HOME=/home/agent \
    AGENT_RUNTIME_CONTAINER=1 \
    AGENT_RUNTIME_HOME=/var/lib/agent-runtime \
    AGENT_RUNTIME_HOST=0.0.0.0 \
    AGENT_RUNTIME_PORT=8585

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
# State (key, jobs), HOME (git and ssh config, caches) and the jobs' default working directory
# survive a new image. Created above with the agent's owner, so new named volumes start with it.
VOLUME ["/var/lib/agent-runtime", "/home/agent", "/workspace"]
# Why /workspace: jobs start in the server's cwd, and the root-owned /app made a first `git clone` fail.
# The server finds dist/, web/ and the launcher next to its own code, not through the cwd.
WORKDIR /workspace
# 8585: HTTP API and terminal WebSocket; 8586: devpilot-compatible terminal port (port + 1).
EXPOSE 8585 8586

# Unauthenticated GET /health answers 200 without a key. The check reads the same variables as the
# server: the port, HTTPS when AGENT_RUNTIME_TLS_CERT is set (the certificate is not verified: it is
# the container's own), and the loopback for a wildcard host.
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
    CMD ["node", "-e", "const e = process.env; const tls = Boolean(e.AGENT_RUNTIME_TLS_CERT); const h = e.AGENT_RUNTIME_HOST || '127.0.0.1'; const host = h === '0.0.0.0' ? '127.0.0.1' : h === '::' ? '::1' : h; require(tls ? 'node:https' : 'node:http').get({ host, port: Number(e.AGENT_RUNTIME_PORT || 8585), path: '/health', rejectUnauthorized: false }, (r) => process.exit(r.statusCode === 200 ? 0 : 1)).on('error', () => process.exit(1))"]

# Why: `--` stops tini from reading the server's flags as its own.
ENTRYPOINT ["/usr/bin/tini", "--"]
# Why no flags: a flag would override the AGENT_RUNTIME_HOST/PORT variables set above.
CMD ["node", "/app/dist/cli.js"]
