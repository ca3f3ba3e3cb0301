package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// registration is the part of a kubeadm document that carries kubelet flags.
type registration struct {
	Kind             string `yaml:"kind"`
	NodeRegistration struct {
		KubeletExtraArgs []struct {
			Name  string `yaml:"name"`
			Value string `yaml:"value"`
		} `yaml:"kubeletExtraArgs"`
	} `yaml:"nodeRegistration"`
}

// nodeLabelsOf parses the kubelet --node-labels value of the document of the
// given kind in a multi-document kubeadm YAML stream.
func nodeLabelsOf(stream, kind string) (map[string]string, error) {
	dec := yaml.NewDecoder(bytes.NewReader([]byte(stream)))
	for {
		var doc registration
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("no %s in the patched kubeadm config", kind)
		}
		if err != nil {
			return nil, err
		}
		if doc.Kind != kind {
			continue
		}
		labels := map[string]string{}
		for _, arg := range doc.NodeRegistration.KubeletExtraArgs {
			if arg.Name != "node-labels" {
				continue
			}
			for _, pair := range strings.Split(arg.Value, ",") {
				if pair == "" {
					continue
				}
				k, v, _ := strings.Cut(pair, "=")
				labels[k] = v
			}
		}
		return labels, nil
	}
}
