package deploy

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apiyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// Object is one decoded Kubernetes object: its apiVersion and kind, and a pointer to its API
// type (*appsv1.StatefulSet, *corev1.Service, …).
type Object struct {
	APIVersion, Kind, Name string
	Value                  any
}

// kinds are the API types jitbot's manifests may use; anything else is refused.
var kinds = map[string]func() any{
	"apps/v1/StatefulSet":           func() any { return new(appsv1.StatefulSet) },
	"apps/v1/Deployment":            func() any { return new(appsv1.Deployment) },
	"v1/Service":                    func() any { return new(corev1.Service) },
	"v1/ServiceAccount":             func() any { return new(corev1.ServiceAccount) },
	"v1/ConfigMap":                  func() any { return new(corev1.ConfigMap) },
	"v1/Secret":                     func() any { return new(corev1.Secret) },
	"v1/PersistentVolumeClaim":      func() any { return new(corev1.PersistentVolumeClaim) },
	"policy/v1/PodDisruptionBudget": func() any { return new(policyv1.PodDisruptionBudget) },
}

// Kustomize renders the kustomization in dir with kustomize's library, as `kubectl kustomize`
// does, and returns the multi-document YAML.
func Kustomize(dir string) ([]byte, error) {
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	m, err := k.Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		return nil, fmt.Errorf("kustomize %s: %w", dir, err)
	}
	out, err := m.AsYaml()
	if err != nil {
		return nil, fmt.Errorf("kustomize %s: %w", dir, err)
	}
	return out, nil
}

// DecodeStrict decodes every document of a multi-document YAML stream into its Kubernetes API
// type, failing on an unknown kind, an unknown or misspelled field, a duplicate key or a value
// of the wrong type: the mistakes `kubectl apply` would only find against a cluster.
func DecodeStrict(r io.Reader) ([]Object, error) {
	docs := apiyaml.NewYAMLReader(bufio.NewReader(r))
	var out []Object
	for i := 1; ; i++ {
		doc, err := docs.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", i, err)
		}
		if len(bytes.TrimSpace(doc)) == 0 {
			continue
		}
		js, err := yaml.YAMLToJSONStrict(doc)
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", i, err)
		}
		var head struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
			Metadata   struct {
				Name string `json:"name"`
			} `json:"metadata"`
		}
		if err := json.Unmarshal(js, &head); err != nil {
			return nil, fmt.Errorf("document %d: %w", i, err)
		}
		mk, ok := kinds[head.APIVersion+"/"+head.Kind]
		if !ok {
			return nil, fmt.Errorf("document %d (%s %s): kind not known to this check", i, head.APIVersion, head.Kind)
		}
		v := mk()
		dec := json.NewDecoder(bytes.NewReader(js))
		dec.DisallowUnknownFields()
		if err := dec.Decode(v); err != nil {
			return nil, fmt.Errorf("document %d (%s %s): %w", i, head.Kind, head.Metadata.Name, err)
		}
		out = append(out, Object{APIVersion: head.APIVersion, Kind: head.Kind, Name: head.Metadata.Name, Value: v})
	}
}
