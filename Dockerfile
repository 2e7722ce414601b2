# Multi-stage build: compile TypeScript to dist/, then ship only dist/ and production
# dependencies on a slim Node.js 24 image, as a non-root user.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npx tsc -p tsconfig.build.json

FROM node:24-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY bin ./bin
USER node
# Node.js flags as every launcher passes them: src/runtime-flags.ts.
ENTRYPOINT ["node", "--no-memory-reducer", "bin/fluxgate.js"]
CMD ["controller"]
