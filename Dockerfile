# Build the single executable, then ship it alone in a slim image.
FROM oven/bun:1.4.5 AS build
WORKDIR /app
COPY package.json bun.lock ./
RUN bun install --frozen-lockfile
COPY . .
RUN bun run build

FROM debian:bookworm-slim
RUN useradd --system --uid 10001 --create-home --home-dir /data chat
COPY --from=build /app/dist/chat-server /usr/local/bin/chat-server
USER chat
WORKDIR /data
ENV HOST=0.0.0.0 PORT=3000 DATABASE_PATH=/data/chat.db
VOLUME /data
EXPOSE 3000
# The binary checks itself: the slim image has no curl.
HEALTHCHECK --interval=15s --timeout=3s --start-period=5s --retries=3 CMD ["chat-server", "--healthcheck"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["chat-server"]
