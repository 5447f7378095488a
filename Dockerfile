# promotesim as a container image, for sweeps across machines (README,
# "Sweeps across machines"; deploy/k8s/explore-job.yaml runs it as a
# Kubernetes Indexed Job). Build: docker build -t promotesim .
#
# Stage 1 builds a static binary: the simulator is pure Go, so with cgo off
# it links nothing from the build image's libc.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/promotesim ./cmd/promotesim

# Stage 2 is the binary on debian-slim rather than distroless: the Job's
# shards redirect -json to a file on the reports volume and turn exit 1 (a
# violation, reported in the file) into success, which takes a shell.
FROM debian:bookworm-slim
COPY --from=build /out/promotesim /usr/local/bin/promotesim
# An unprivileged user; the Job's fsGroup lets it write the volume.
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/promotesim"]
CMD ["help"]
