# Gilgal recipe: React (or any Vite / Create React App) single-page app:
# a static build served by nginx.
#
# Placeholders (filled by nodes/recipe.cpp):
#   {{NODE_IMAGE}}   base image providing node and npm (settings [images] node)
#   {{NGINX_IMAGE}}  base image providing nginx and /bin/sh (settings [images] nginx)
#   {{BUILD_ARGS}}   `ARG NAME` for each build variable of the environment (the build
#                    stage's RUN steps see their values; not in the final image)
# Build: `npm ci` when package-lock.json exists, else `npm install`; then
# `npm run build`; the first of dist/ (Vite), build/ (react-scripts), out/
# holding index.html is served. Unknown paths fall back to /index.html.
# Port: nginx runs as the non-root user gilgal (uid 10001) and listens on
# $PORT: its configuration is rendered from a template at container start
# (default 8080; a non-numeric PORT falls back to 8080).
FROM {{NODE_IMAGE}} AS build
WORKDIR /app
ENV NPM_CONFIG_UPDATE_NOTIFIER=false NPM_CONFIG_FUND=false NPM_CONFIG_AUDIT=false
COPY package*.json ./
RUN if [ -f package-lock.json ]; then npm ci --cache /tmp/npm-cache; \
    else npm install --cache /tmp/npm-cache; fi \
 && rm -rf /tmp/npm-cache
{{BUILD_ARGS}}
COPY . .
RUN npm run build
RUN mkdir -p /out \
 && for d in dist build out; do \
      if [ -f "$d/index.html" ]; then cp -a "$d/." /out/; break; fi; \
    done \
 && if [ ! -f /out/index.html ]; then \
      echo "npm run build produced no dist/, build/ or out/ holding index.html" >&2; exit 1; \
    fi

FROM {{NGINX_IMAGE}}
RUN id -u gilgal >/dev/null 2>&1 \
 || useradd --uid 10001 --user-group --create-home --shell /bin/sh gilgal 2>/dev/null \
 || adduser -D -u 10001 -s /bin/sh gilgal
RUN mkdir -p /etc/gilgal && printf '%s\n' \
      'worker_processes auto;' \
      'pid /tmp/nginx.pid;' \
      'error_log /dev/stderr warn;' \
      'events { worker_connections 1024; }' \
      'http {' \
      '  include /etc/nginx/mime.types;' \
      '  default_type application/octet-stream;' \
      '  access_log /dev/stdout;' \
      '  sendfile on;' \
      '  server_tokens off;' \
      '  client_body_temp_path /tmp/nginx-client-body;' \
      '  proxy_temp_path /tmp/nginx-proxy;' \
      '  fastcgi_temp_path /tmp/nginx-fastcgi;' \
      '  uwsgi_temp_path /tmp/nginx-uwsgi;' \
      '  scgi_temp_path /tmp/nginx-scgi;' \
      '  server {' \
      '    listen __PORT__;' \
      '    root /srv/www;' \
      '    index index.html;' \
      '    location / { try_files $uri $uri/ /index.html; }' \
      '  }' \
      '}' >/etc/gilgal/nginx.conf.template
COPY --from=build /out /srv/www
USER gilgal
ENV PORT=8080
EXPOSE 8080
ENTRYPOINT []
CMD ["/bin/sh", "-c", "case \"$PORT\" in ''|*[!0-9]*) PORT=8080;; esac; sed \"s/__PORT__/$PORT/\" /etc/gilgal/nginx.conf.template >/tmp/nginx.conf && exec nginx -e /dev/stderr -c /tmp/nginx.conf -g 'daemon off;'"]
