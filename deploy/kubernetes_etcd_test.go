package deploy

import (
	"bytes"
	"path"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
)

// TestKubernetesEtcd checks the overlay for several replicas on etcd: three pods of the base's
// StatefulSet started in parallel and spread over nodes, no claim for a bbolt file, the etcd
// settings and client certificate, no bbolt backups, and a PodDisruptionBudget that keeps all
// but one running.
func TestKubernetesEtcd(t *testing.T) {
	out, err := Kustomize("kubernetes-etcd")
	if err != nil {
		t.Fatal(err)
	}
	objs, err := DecodeStrict(bytes.NewReader(out))
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var (
		sts *appsv1.StatefulSet
		pdb *policyv1.PodDisruptionBudget
	)
	configMaps := map[string]*corev1.ConfigMap{}
	for _, o := range objs {
		switch v := o.Value.(type) {
		case *appsv1.StatefulSet:
			sts = v
		case *policyv1.PodDisruptionBudget:
			pdb = v
		case *corev1.ConfigMap:
			configMaps[v.Name] = v
		case *corev1.PersistentVolumeClaim:
			t.Errorf("a PersistentVolumeClaim %s: the etcd overlay keeps no file", v.Name)
		}
	}
	if sts == nil || pdb == nil {
		t.Fatalf("StatefulSet %v, PodDisruptionBudget %v: want both", sts != nil, pdb != nil)
	}
	if sts.Spec.Replicas == nil || *sts.Spec.Replicas != 3 || sts.Spec.PodManagementPolicy != appsv1.ParallelPodManagement {
		t.Errorf("replicas %v, pod management %q: want 3 in parallel", sts.Spec.Replicas, sts.Spec.PodManagementPolicy)
	}
	if len(sts.Spec.VolumeClaimTemplates) != 0 {
		t.Errorf("volumeClaimTemplates %v: the store is etcd", sts.Spec.VolumeClaimTemplates)
	}
	pod := sts.Spec.Template.Spec
	aa := pod.Affinity
	if aa == nil || aa.PodAntiAffinity == nil || len(aa.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution) == 0 ||
		aa.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution[0].PodAffinityTerm.TopologyKey != "kubernetes.io/hostname" {
		t.Errorf("affinity %+v: want pods spread over nodes", aa)
	}
	labels := sts.Spec.Template.Labels
	if pdb.Spec.MaxUnavailable == nil || pdb.Spec.MaxUnavailable.IntValue() != 1 || pdb.Spec.Selector == nil {
		t.Errorf("PodDisruptionBudget %+v: want maxUnavailable 1", pdb.Spec)
	} else {
		for k, v := range pdb.Spec.Selector.MatchLabels {
			if labels[k] != v {
				t.Errorf("PodDisruptionBudget selects %s=%s, which the pods lack (%v)", k, v, labels)
			}
		}
	}

	c := pod.Containers[0]
	env := map[string]string{}
	for _, ef := range c.EnvFrom {
		if ef.ConfigMapRef != nil && configMaps[ef.ConfigMapRef.Name] != nil {
			for k, v := range configMaps[ef.ConfigMapRef.Name].Data {
				env[k] = v
			}
		}
	}
	if env["JITBOT_STORE"] != "etcd" || env["JITBOT_ETCD_ENDPOINTS"] == "" || !strings.HasSuffix(env["JITBOT_ETCD_PREFIX"], "/") {
		t.Errorf("etcd settings: store %q endpoints %q prefix %q", env["JITBOT_STORE"], env["JITBOT_ETCD_ENDPOINTS"], env["JITBOT_ETCD_PREFIX"])
	}
	if env["JITBOT_BACKUP_DIR"] != "" {
		t.Errorf("JITBOT_BACKUP_DIR=%q: bbolt backups are refused with etcd", env["JITBOT_BACKUP_DIR"])
	}
	mounts := map[string]string{}
	for _, m := range c.VolumeMounts {
		mounts[m.Name] = m.MountPath
	}
	volumes := map[string]corev1.Volume{}
	for _, v := range pod.Volumes {
		volumes[v.Name] = v
	}
	if v := volumes["etcd"]; v.Secret == nil || mounts["etcd"] == "" {
		t.Fatalf("etcd volume %+v mounted at %q: want the client certificate Secret", v, mounts["etcd"])
	}
	for _, name := range []string{"JITBOT_ETCD_CA_FILE", "JITBOT_ETCD_CERT_FILE", "JITBOT_ETCD_KEY_FILE"} {
		if !strings.HasPrefix(path.Clean(env[name]), path.Clean(mounts["etcd"])+"/") {
			t.Errorf("%s=%q is not in the etcd Secret's volume (%s)", name, env[name], mounts["etcd"])
		}
	}
	if v := volumes["data"]; v.EmptyDir == nil || mounts["data"] == "" {
		t.Errorf("data volume %+v: the base mounts it, the overlay makes it scratch space", v)
	}
}
