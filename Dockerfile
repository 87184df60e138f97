# Production image: gunicorn serves Django, whitenoise serves the static files.
FROM node:20-bookworm-slim AS assets
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
RUN useradd --create-home --uid 1000 crm
COPY pyproject.toml README.md ./
COPY accounts ./accounts
COPY crm ./crm
COPY pipeline ./pipeline
RUN pip install --upgrade pip && pip install .
COPY --from=assets /app/node_modules ./node_modules
COPY manage.py ./
COPY templates ./templates
COPY static ./static
# collectstatic needs settings that boot; these throwaway values never reach a running container.
RUN DEBUG=false SECRET_KEY=build-only-not-secret-0123456789-abcdefghijklmnopqrstuvwxyz \
    ALLOWED_HOSTS=build python manage.py collectstatic --no-input \
    && mkdir -p /app/var && chown -R crm /app/var
USER crm
EXPOSE 8000
CMD ["gunicorn", "crm.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
