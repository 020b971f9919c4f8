package deploy

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// Dockerfile is a parsed Dockerfile: its stages with their typed instructions.
type Dockerfile struct {
	Stages []instructions.Stage
}

// ParseDockerfile reads and parses the Dockerfile at path with BuildKit's parser.
func ParseDockerfile(path string) (*Dockerfile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("parse dockerfile: %w", err)
	}
	defer f.Close()
	res, err := parser.Parse(f)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	stages, _, err := instructions.Parse(res.AST, nil)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	return &Dockerfile{Stages: stages}, nil
}

// Final is the stage the image is made of.
func (d *Dockerfile) Final() *instructions.Stage { return &d.Stages[len(d.Stages)-1] }

// BuildCommand is the shell command of the RUN instruction that runs `go build`, as written.
func (d *Dockerfile) BuildCommand() (string, error) {
	var found []string
	for _, st := range d.Stages {
		for _, c := range st.Commands {
			run, ok := c.(*instructions.RunCommand)
			if !ok || !run.PrependShell {
				continue
			}
			line := strings.Join(run.CmdLine, " ")
			if strings.Contains(line, "go build") {
				found = append(found, line)
			}
		}
	}
	switch len(found) {
	case 0:
		return "", errors.New("no RUN instruction runs go build")
	case 1:
		return found[0], nil
	}
	return "", fmt.Errorf("%d RUN instructions run go build; CI can follow one", len(found))
}

// Commands returns the instructions of type T in stage st.
func Commands[T instructions.Command](st *instructions.Stage) []T {
	var out []T
	for _, c := range st.Commands {
		if t, ok := c.(T); ok {
			out = append(out, t)
		}
	}
	return out
}
