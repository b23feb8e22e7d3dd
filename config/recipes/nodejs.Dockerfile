# Gilgal recipe: Node.js app (package.json with scripts.start or main).
#
# Placeholders (filled by nodes/recipe.cpp):
#   {{NODE_IMAGE}}     base image providing node and npm (settings [images] node)
#   {{START_COMMAND}}  JSON string: the start command, run by /bin/sh -c (Procfile
#                      web: line, else `npm start`, else `node <main>`)
#   {{BUILD_ARGS}}   `ARG NAME` for each build variable of the environment (the build
#                    stage's RUN steps see their values; not in the final image)
# Dependencies: `npm ci` when package-lock.json exists, else `npm install`;
# `npm run build` when package.json has a build script; dev dependencies are
# pruned before the app is copied into the final stage.
# The app runs as the non-root user gilgal (uid 10001) and must listen on
# $PORT (the runner sets it; 8080 by default).
FROM {{NODE_IMAGE}} AS build
WORKDIR /app
ENV NPM_CONFIG_UPDATE_NOTIFIER=false NPM_CONFIG_FUND=false NPM_CONFIG_AUDIT=false
COPY package*.json ./
RUN if [ -f package-lock.json ]; then npm ci --cache /tmp/npm-cache; \
    else npm install --cache /tmp/npm-cache; fi \
 && rm -rf /tmp/npm-cache
{{BUILD_ARGS}}
COPY . .
RUN if node -e "const p=require('./package.json'); process.exit(p.scripts && p.scripts.build ? 0 : 1)"; \
    then npm run build; fi \
 && npm prune --omit=dev --cache /tmp/npm-cache \
 && rm -rf /tmp/npm-cache .git

FROM {{NODE_IMAGE}}
RUN id -u gilgal >/dev/null 2>&1 \
 || useradd --uid 10001 --user-group --create-home --shell /bin/sh gilgal 2>/dev/null \
 || adduser -D -u 10001 -s /bin/sh gilgal
WORKDIR /app
ENV NODE_ENV=production PORT=8080 NPM_CONFIG_UPDATE_NOTIFIER=false
COPY --from=build /app /app
USER gilgal
EXPOSE 8080
CMD ["/bin/sh", "-c", {{START_COMMAND}}]
