# syntax=docker/dockerfile:1
#
# jitbot: one static binary on distroless, running as a non-root user, its bbolt file in /data.
#
#   docker build --build-arg VERSION=$(git describe --tags --always) \
#                --build-arg COMMIT=$(git rev-parse HEAD) -t jitbot .
#   docker run -v jitbot-data:/data -v $PWD/policy.yaml:/etc/jitbot/policy.yaml:ro \
#              -e JITBOT_SLACK_BOT_TOKEN_FILE=/run/secrets/slack-bot-token … jitbot
#
# CI (.ci/run) runs this file's `go build` line, as written, and then the binary as an
# unprivileged user: see deploy/dockerfile_test.go.

FROM golang:1.26.8 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG COMMIT=unknown
RUN CGO_ENABLED=0 go build -trimpath -buildvcs=false -ldflags "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT}" -o bin/jitbot ./cmd/jitbot
RUN mkdir -p /out/data && cp bin/jitbot /out/jitbot

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/jitbot /jitbot
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
ENV JITBOT_DB_PATH=/data/jitbot.db \
    JITBOT_POLICY_FILE=/etc/jitbot/policy.yaml \
    JITBOT_HTTP_ADDR=:8080
VOLUME ["/data"]
EXPOSE 8080
ENTRYPOINT ["/jitbot"]
CMD ["run"]
