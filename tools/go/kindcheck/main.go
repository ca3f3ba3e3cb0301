// Command kindcheck loads a kind cluster config with kind's own loader and
// validator (the code `kind create cluster --config` runs), resolves each
// node's labels including those set through kubeadm config patches, and prints
// a JSON summary. It lets tests check kind-config.yaml on machines where kind
// clusters cannot run.
//
// Usage: kindcheck path/to/kind-config.yaml
package main

import (
	"encoding/json"
	"fmt"
	"os"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: kindcheck path/to/kind-config.yaml")
		os.Exit(2)
	}
	summary, err := check(os.Args[1])
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
	out := json.NewEncoder(os.Stdout)
	out.SetIndent("", "  ")
	if err := out.Encode(summary); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
