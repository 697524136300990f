# Build: docker build -t maskd .   Run: see docker-compose.yml
FROM rust:1-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src src
COPY migrations migrations
COPY benches benches
RUN cargo build --release --locked --bin maskd

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --no-create-home maskd
COPY --from=build /src/target/release/maskd /usr/local/bin/maskd
USER maskd
ENV MASKD_BIND=0.0.0.0:8282 \
    RUST_LOG=info
EXPOSE 8282
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD curl -fsS http://127.0.0.1:8282/readyz || exit 1
ENTRYPOINT ["maskd"]
CMD ["serve"]
