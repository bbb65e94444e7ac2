# Production image of Redress: a static-ish binary on a slim Debian base.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release -p redress --locked

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /var/lib/redress --create-home redress
COPY --from=build /src/target/release/redress /usr/local/bin/redress
USER redress
WORKDIR /var/lib/redress
EXPOSE 8080 2525
ENTRYPOINT ["redress"]
CMD ["serve"]
