# syntax=docker/dockerfile:1
# gitops-guard's image: one Node 24 LTS process, non-root, read-only root filesystem (the chart
# mounts /tmp and the state directory), git, kustomize and helm for the reconciler, no dev dependency.
# CI has no container engine: test/cli/production-install.test.ts installs exactly what the last
# stage holds (`npm ci --omit=dev`, dist/, crds/, webhooks/) in a clean folder and runs it.

ARG NODE_IMAGE=node:24-bookworm-slim

# kustomize, pinned as in test/tools/kustomize/go.mod, built from the Go module proxy.
FROM golang:1.26-bookworm AS kustomize
ENV CGO_ENABLED=0 GOFLAGS=-trimpath
RUN go install -ldflags="-s -w" sigs.k8s.io/kustomize/kustomize/v5@v5.8.2

# helm v4, pinned as in test/tools/go-tools.ts, for GitSyncs that render a chart (helm template).
FROM golang:1.26-bookworm AS helm
ENV CGO_ENABLED=0 GOFLAGS=-trimpath
RUN go install -ldflags="-s -w -X helm.sh/helm/v4/internal/version.version=v4.3.2 -X helm.sh/helm/v4/internal/version.gitTreeState=clean" helm.sh/helm/v4/cmd/helm@v4.3.2

# TypeScript to dist/ with the dev dependencies, which stay in this stage: esbuild bundles it
# (scripts/bundle.mjs, for a quick CLI start-up), tsc type-checks it.
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY src ./src
RUN npm run build

# The runtime dependencies alone.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM ${NODE_IMAGE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends git openssh-client ca-certificates tini \
 && rm -rf /var/lib/apt/lists/* \
 && rm -rf /usr/local/lib/node_modules/npm /usr/local/bin/npm /usr/local/bin/npx
COPY --from=kustomize /go/bin/kustomize /usr/local/bin/kustomize
COPY --from=helm /go/bin/helm /usr/local/bin/helm
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY package.json ./
COPY crds ./crds
COPY webhooks ./webhooks
# 65532: the conventional "nonroot" user of distroless images; no shell login, no home.
USER 65532:65532
ENV NODE_ENV=production HOME=/tmp
EXPOSE 8080 9443
ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/dist/cli/bin.js"]
CMD ["run"]
