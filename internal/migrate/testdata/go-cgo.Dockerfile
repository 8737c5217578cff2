FROM golang:1.23-bookworm AS build
WORKDIR /src
COPY . .
RUN go build -o /out/server .

FROM debian:12-slim
COPY --from=build /out/server /server
USER nonroot
ENTRYPOINT ["/server"]
