package deploy

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
)

// TestDockerfile checks the image the Dockerfile describes: a Go build stage on the Go version
// of jitbot's go.mod making a static, trimmed, stamped binary, and a distroless runtime stage
// that runs it as a non-root user with its store on a /data volume and the HTTP port exposed.
func TestDockerfile(t *testing.T) {
	d, err := ParseDockerfile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Stages) != 2 {
		t.Fatalf("%d stages, want 2 (build, runtime)", len(d.Stages))
	}
	gomod, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	goVersion := regexp.MustCompile(`(?m)^go (\S+)$`).FindSubmatch(gomod)
	if goVersion == nil || d.Stages[0].BaseName != "golang:"+string(goVersion[1]) {
		t.Errorf("build stage is FROM %s; want golang:%s, the go line of go.mod", d.Stages[0].BaseName, goVersion[1])
	}

	build, err := d.BuildCommand()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"CGO_ENABLED=0", "-trimpath", "-X main.version=${VERSION}", "-X main.commit=${COMMIT}", "-o bin/jitbot", "./cmd/jitbot"} {
		if !strings.Contains(build, want) {
			t.Errorf("build command %q lacks %q", build, want)
		}
	}
	var args []string
	for _, a := range Commands[*instructions.ArgCommand](&d.Stages[0]) {
		for _, kv := range a.Args {
			args = append(args, kv.Key)
		}
	}
	if !slices.Contains(args, "VERSION") || !slices.Contains(args, "COMMIT") {
		t.Errorf("build stage ARGs %v, want VERSION and COMMIT", args)
	}

	final := d.Final()
	if !strings.HasPrefix(final.BaseName, "gcr.io/distroless/static") {
		t.Errorf("runtime stage is FROM %s, want gcr.io/distroless/static…", final.BaseName)
	}
	users := Commands[*instructions.UserCommand](final)
	if len(users) != 1 {
		t.Fatalf("runtime stage has %d USER instructions, want 1", len(users))
	}
	uid, _, _ := strings.Cut(users[0].User, ":")
	if uid == "" || uid == "0" || uid == "root" || strings.Trim(uid, "0123456789") != "" {
		t.Errorf("USER %s: want a numeric non-root user (Kubernetes runAsNonRoot needs a number)", users[0].User)
	}
	entry := Commands[*instructions.EntrypointCommand](final)
	if len(entry) != 1 || entry[0].PrependShell || !slices.Equal(entry[0].CmdLine, []string{"/jitbot"}) {
		t.Errorf("ENTRYPOINT %+v, want [\"/jitbot\"] in exec form", entry)
	}
	cmd := Commands[*instructions.CmdCommand](final)
	if len(cmd) != 1 || cmd[0].PrependShell || !slices.Equal(cmd[0].CmdLine, []string{"run"}) {
		t.Errorf("CMD %+v, want [\"run\"] in exec form", cmd)
	}
	env := map[string]string{}
	for _, e := range Commands[*instructions.EnvCommand](final) {
		for _, kv := range e.Env {
			env[kv.Key] = kv.Value
		}
	}
	vols := Commands[*instructions.VolumeCommand](final)
	if len(vols) != 1 || !slices.Equal(vols[0].Volumes, []string{"/data"}) {
		t.Errorf("VOLUME %+v, want /data", vols)
	}
	if !strings.HasPrefix(env["JITBOT_DB_PATH"], "/data/") {
		t.Errorf("JITBOT_DB_PATH=%q, want a file in the /data volume", env["JITBOT_DB_PATH"])
	}
	var dataOwned bool
	for _, c := range Commands[*instructions.CopyCommand](final) {
		if c.DestPath == "/data" && c.Chown == users[0].User {
			dataOwned = true
		}
	}
	if !dataOwned {
		t.Errorf("/data is not copied in owned by %s: the bot could not write its store", users[0].User)
	}
	exposed := Commands[*instructions.ExposeCommand](final)
	_, port, _ := strings.Cut(env["JITBOT_HTTP_ADDR"], ":")
	if len(exposed) != 1 || !slices.Equal(exposed[0].Ports, []string{port}) {
		t.Errorf("EXPOSE %+v, want the port of JITBOT_HTTP_ADDR=%q", exposed, env["JITBOT_HTTP_ADDR"])
	}
}
