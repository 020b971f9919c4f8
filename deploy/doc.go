// Package deploy checks jitbot's deployment files without a container engine or a cluster:
// the Dockerfile at the repository root (parsed with BuildKit's own Dockerfile parser), the
// kustomize base in kubernetes/ (rendered with kustomize's library and every object decoded
// strictly into its Kubernetes API type) and the Prometheus alert rules in prometheus/ (parsed
// with Prometheus's rule parser).
//
// # Rules
//
// deploy is its own Go module, so BuildKit, Prometheus and the Kubernetes API types never
// enter jitbot's module. It reads the repository's files; it imports nothing of jitbot.
// Its two commands serve CI (.ci/run): buildcmd prints the Dockerfile's go build line, which
// CI runs as written; kubecheck decodes `kubectl kustomize` output strictly.
package deploy
