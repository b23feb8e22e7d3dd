# Gilgal recipe: Python app (requirements.txt or pyproject.toml).
#
# Placeholders (filled by nodes/recipe.cpp):
#   {{PYTHON_IMAGE}}   base image providing python3 with venv (settings [images] python)
#   {{START_COMMAND}}  JSON string: the start command, run by /bin/sh -c (Procfile
#                      web: line, else `python main.py`, else `python app.py`)
#   {{BUILD_ARGS}}   `ARG NAME` for each build variable of the environment (the build
#                    stage's RUN steps see their values; not in the final image)
# Dependencies go into a virtualenv (/opt/venv) built in the first stage:
# `pip install -r requirements.txt`, else `pip install .` for pyproject.toml.
# The app runs as the non-root user gilgal (uid 10001) and must listen on
# $PORT (the runner sets it; 8080 by default).
FROM {{PYTHON_IMAGE}} AS build
WORKDIR /app
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
RUN python3 -m venv /opt/venv
{{BUILD_ARGS}}
COPY . .
RUN if [ -f requirements.txt ]; then /opt/venv/bin/pip install -r requirements.txt; \
    elif [ -f pyproject.toml ]; then /opt/venv/bin/pip install .; fi \
 && rm -rf .git

FROM {{PYTHON_IMAGE}}
RUN id -u gilgal >/dev/null 2>&1 \
 || useradd --uid 10001 --user-group --create-home --shell /bin/sh gilgal 2>/dev/null \
 || adduser -D -u 10001 -s /bin/sh gilgal
WORKDIR /app
ENV PATH=/opt/venv/bin:$PATH VIRTUAL_ENV=/opt/venv PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 PORT=8080
COPY --from=build /opt/venv /opt/venv
COPY --from=build /app /app
USER gilgal
EXPOSE 8080
CMD ["/bin/sh", "-c", {{START_COMMAND}}]
