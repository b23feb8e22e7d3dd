# Gilgal recipe: static site (index.html at the repository's root), served by nginx.
#
# Placeholders (filled by nodes/recipe.cpp):
#   {{NGINX_IMAGE}}  base image providing nginx and /bin/sh (settings [images] nginx)
# The repository (without .git, Procfile, .dockerignore and the generated
# Dockerfile.gilgal) is the web root; unknown paths answer 404.
# Port: nginx runs as the non-root user gilgal (uid 10001) and listens on
# $PORT: its configuration is rendered from a template at container start
# (default 8080; a non-numeric PORT falls back to 8080).
FROM {{NGINX_IMAGE}} AS site
COPY . /site
RUN rm -rf /site/.git /site/Procfile /site/Dockerfile.gilgal /site/.dockerignore

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
      '    location / { try_files $uri $uri/ =404; }' \
      '  }' \
      '}' >/etc/gilgal/nginx.conf.template
COPY --from=site /site /srv/www
USER gilgal
ENV PORT=8080
EXPOSE 8080
ENTRYPOINT []
CMD ["/bin/sh", "-c", "case \"$PORT\" in ''|*[!0-9]*) PORT=8080;; esac; sed \"s/__PORT__/$PORT/\" /etc/gilgal/nginx.conf.template >/tmp/nginx.conf && exec nginx -e /dev/stderr -c /tmp/nginx.conf -g 'daemon off;'"]
