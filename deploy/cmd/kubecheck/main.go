// Command kubecheck decodes Kubernetes objects from standard input strictly into their API
// types (see deploy.DecodeStrict): kubectl kustomize deploy/kubernetes | kubecheck.
package main

import (
	"fmt"
	"os"

	"github.com/jitbot/jitbot/deploy"
)

func main() {
	objs, err := deploy.DecodeStrict(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "kubecheck:", err)
		os.Exit(1)
	}
	if len(objs) == 0 {
		fmt.Fprintln(os.Stderr, "kubecheck: no objects on standard input")
		os.Exit(1)
	}
	for _, o := range objs {
		fmt.Printf("ok %s %s %s\n", o.APIVersion, o.Kind, o.Name)
	}
}
