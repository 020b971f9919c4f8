// Command buildcmd prints the shell command of the Dockerfile's `go build` RUN instruction, so
// CI builds jitbot exactly as the image does: sh -c "$(go run ./cmd/buildcmd ../Dockerfile)".
package main

import (
	"fmt"
	"os"

	"github.com/jitbot/jitbot/deploy"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: buildcmd DOCKERFILE")
		os.Exit(2)
	}
	d, err := deploy.ParseDockerfile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "buildcmd:", err)
		os.Exit(1)
	}
	cmd, err := d.BuildCommand()
	if err != nil {
		fmt.Fprintln(os.Stderr, "buildcmd:", err)
		os.Exit(1)
	}
	fmt.Println(cmd)
}
