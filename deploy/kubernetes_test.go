package deploy

import (
	"bytes"
	"path"
	"strconv"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

// render renders the kustomize base and decodes it strictly.
func render(t *testing.T) []Object {
	t.Helper()
	out, err := Kustomize("kubernetes")
	if err != nil {
		t.Fatal(err)
	}
	objs, err := DecodeStrict(bytes.NewReader(out))
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	return objs
}

// TestKubernetes checks the kustomize base: one replica of the bbolt deployment with its store
// on a claim, the policy from a generated ConfigMap (a change rolls the pod), secrets as files
// through _FILE variables, health and readiness probes, Prometheus annotations and a locked
// down security context whose user is the image's.
func TestKubernetes(t *testing.T) {
	objs := render(t)
	var sts *appsv1.StatefulSet
	configMaps := map[string]*corev1.ConfigMap{}
	for _, o := range objs {
		switch v := o.Value.(type) {
		case *appsv1.StatefulSet:
			if sts != nil {
				t.Fatal("two StatefulSets")
			}
			sts = v
		case *appsv1.Deployment:
			t.Fatal("a Deployment: bbolt needs the single-replica StatefulSet")
		case *corev1.ConfigMap:
			configMaps[v.Name] = v
		}
	}
	if sts == nil {
		t.Fatal("no StatefulSet")
	}
	if sts.Spec.Replicas == nil || *sts.Spec.Replicas != 1 {
		t.Errorf("replicas %v, want 1: bbolt allows one process per file", sts.Spec.Replicas)
	}
	pod := sts.Spec.Template.Spec
	if len(pod.Containers) != 1 {
		t.Fatalf("%d containers, want 1", len(pod.Containers))
	}
	c := pod.Containers[0]

	// Environment: the generated env ConfigMap, plus nothing secret inline.
	env := map[string]string{}
	for _, e := range c.Env {
		if e.Value != "" && (strings.Contains(e.Name, "TOKEN") || strings.Contains(e.Name, "KEY")) && !strings.HasSuffix(e.Name, "_FILE") {
			t.Errorf("%s is set inline; give secrets as %s_FILE from the Secret", e.Name, e.Name)
		}
		env[e.Name] = e.Value
	}
	for _, ef := range c.EnvFrom {
		if ef.ConfigMapRef == nil {
			continue
		}
		cm := configMaps[ef.ConfigMapRef.Name]
		if cm == nil {
			t.Fatalf("envFrom names ConfigMap %s, which the base does not make", ef.ConfigMapRef.Name)
		}
		for k, v := range cm.Data {
			env[k] = v
		}
	}
	mounts := map[string]corev1.VolumeMount{}
	for _, m := range c.VolumeMounts {
		mounts[m.Name] = m
	}
	volumes := map[string]corev1.Volume{}
	for _, v := range pod.Volumes {
		volumes[v.Name] = v
	}
	under := func(file, volume string) bool {
		m, ok := mounts[volume]
		return ok && strings.HasPrefix(path.Clean(file), path.Clean(m.MountPath)+"/")
	}

	// The store on the claim.
	if len(sts.Spec.VolumeClaimTemplates) != 1 || sts.Spec.VolumeClaimTemplates[0].Name != "data" {
		t.Errorf("volumeClaimTemplates %v, want one named data", sts.Spec.VolumeClaimTemplates)
	}
	if !under(env["JITBOT_DB_PATH"], "data") {
		t.Errorf("JITBOT_DB_PATH=%q is not on the data claim", env["JITBOT_DB_PATH"])
	}
	// The policy from a generated (hash-named) ConfigMap, so a change rolls the pod.
	pv := volumes["policy"]
	if pv.ConfigMap == nil || configMaps[pv.ConfigMap.Name] == nil || configMaps[pv.ConfigMap.Name].Data["policy.yaml"] == "" {
		t.Errorf("policy volume %+v does not hold policy.yaml from a ConfigMap of the base", pv)
	} else if !strings.HasPrefix(pv.ConfigMap.Name, "jitbot-policy-") {
		t.Errorf("policy ConfigMap %s has no content hash: a changed policy would not roll the pod", pv.ConfigMap.Name)
	}
	if !under(env["JITBOT_POLICY_FILE"], "policy") {
		t.Errorf("JITBOT_POLICY_FILE=%q is not in the policy volume", env["JITBOT_POLICY_FILE"])
	}
	// Secrets as files, readable by the pod's group.
	sv := volumes["secrets"]
	if sv.Secret == nil || sv.Secret.DefaultMode == nil || *sv.Secret.DefaultMode&0o040 == 0 {
		t.Errorf("secrets volume %+v: want a Secret with files readable by the fsGroup", sv)
	}
	for _, name := range []string{"JITBOT_SLACK_BOT_TOKEN", "JITBOT_SLACK_APP_TOKEN", "JITBOT_ATLASSIAN_API_KEY"} {
		if env[name] != "" || !under(env[name+"_FILE"], "secrets") {
			t.Errorf("%s: want %s_FILE in the secrets volume, got %q / %q", name, name, env[name], env[name+"_FILE"])
		}
	}
	if env["JITBOT_ATLASSIAN_ORG_ID"] != "" {
		t.Errorf("JITBOT_ATLASSIAN_ORG_ID=%q in the base: leave it empty so an unconfigured bot stops with a clear message", env["JITBOT_ATLASSIAN_ORG_ID"])
	}
	if env["JITBOT_BACKUP_DIR"] != "" && !under(env["JITBOT_BACKUP_DIR"]+"/x", "data") {
		t.Errorf("JITBOT_BACKUP_DIR=%q is not on a writable volume", env["JITBOT_BACKUP_DIR"])
	}

	// Probes and scraping on the HTTP port.
	port := env["JITBOT_HTTP_ADDR"]
	if len(c.Ports) != 1 || ":"+strconv.Itoa(int(c.Ports[0].ContainerPort)) != port {
		t.Errorf("container ports %v do not match JITBOT_HTTP_ADDR=%q", c.Ports, port)
	}
	if c.LivenessProbe == nil || c.LivenessProbe.HTTPGet == nil || c.LivenessProbe.HTTPGet.Path != "/healthz" {
		t.Errorf("liveness probe %+v, want GET /healthz", c.LivenessProbe)
	}
	if c.ReadinessProbe == nil || c.ReadinessProbe.HTTPGet == nil || c.ReadinessProbe.HTTPGet.Path != "/readyz" {
		t.Errorf("readiness probe %+v, want GET /readyz", c.ReadinessProbe)
	}
	ann := sts.Spec.Template.Annotations
	if ann["prometheus.io/scrape"] != "true" || ":"+ann["prometheus.io/port"] != port || ann["prometheus.io/path"] != "/metrics" {
		t.Errorf("scrape annotations %v", ann)
	}

	// Security: non-root (the image's user), read-only root, no privilege escalation.
	psc, csc := pod.SecurityContext, c.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser == 0 {
		t.Fatalf("pod security context %+v: want runAsNonRoot and a non-zero runAsUser", psc)
	}
	if csc == nil || csc.ReadOnlyRootFilesystem == nil || !*csc.ReadOnlyRootFilesystem ||
		csc.AllowPrivilegeEscalation == nil || *csc.AllowPrivilegeEscalation ||
		csc.Capabilities == nil || len(csc.Capabilities.Drop) != 1 || csc.Capabilities.Drop[0] != "ALL" {
		t.Errorf("container security context %+v: want readOnlyRootFilesystem, no privilege escalation, all capabilities dropped", csc)
	}
	d, err := ParseDockerfile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	users := Commands[*instructions.UserCommand](d.Final())
	if len(users) != 1 || !strings.HasPrefix(users[0].User, strconv.FormatInt(*psc.RunAsUser, 10)+":") {
		t.Errorf("runAsUser %d is not the image's USER %v", *psc.RunAsUser, users)
	}
}

// TestDecodeStrict_refuses: the decoder finds what a cluster would refuse.
func TestDecodeStrict_refuses(t *testing.T) {
	tests := []struct{ name, doc, want string }{
		{"unknown_field", "apiVersion: v1\nkind: Service\nmetadata: {name: x}\nspec: {prots: []}\n", "unknown field"},
		{"wrong_type", "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: x}\nspec: {replicas: one}\n", "replicas"},
		{"duplicate_key", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {a: b, a: c}\n", "already set"},
		{"unknown_kind", "apiVersion: v1\nkind: Widget\nmetadata: {name: x}\n", "not known"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeStrict(strings.NewReader(tt.doc))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, want one saying %q", err, tt.want)
			}
		})
	}
}
