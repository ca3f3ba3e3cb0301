package main

import (
	"fmt"
	"sort"
	"strings"

	"sigs.k8s.io/kind/pkg/internal/apis/config"
	"sigs.k8s.io/kind/pkg/internal/apis/config/encoding"
	"sigs.k8s.io/kind/pkg/internal/patch"
)

// Summary is what tests assert on: the cluster as kind will create it.
type Summary struct {
	Name  string        `json:"name"`
	Nodes []NodeSummary `json:"nodes"`
}

// NodeSummary is one node: its role, effective labels and host port mappings.
type NodeSummary struct {
	Role         string            `json:"role"`
	Image        string            `json:"image"`
	Labels       map[string]string `json:"labels"`
	PortMappings []PortMapping     `json:"portMappings"`
}

// PortMapping is a host port forwarded into the node container.
type PortMapping struct {
	ContainerPort int32  `json:"containerPort"`
	HostPort      int32  `json:"hostPort"`
	ListenAddress string `json:"listenAddress"`
	Protocol      string `json:"protocol"`
}

// The two kubeadm documents a node registers through: the control-plane node
// the InitConfiguration, the others the JoinConfiguration.
const (
	initKind = "InitConfiguration"
	joinKind = "JoinConfiguration"
)

// kubeadmDocument mirrors the node registration part of one kubeadm v1beta4
// document kind generates (%[1]s: its kind, %[2]s: the node labels).
const kubeadmDocument = `apiVersion: kubeadm.k8s.io/v1beta4
kind: %[1]s
metadata:
  name: config
nodeRegistration:
  kubeletExtraArgs:
    - name: "node-labels"
      value: "%[2]s"
`

// kubeadmStub is both registration documents with the node's labels, so the
// node's kubeadm patches are merged by kind's own patch code exactly as at
// cluster creation.
func kubeadmStub(labels string) string {
	return fmt.Sprintf(kubeadmDocument, initKind, labels) + "---\n" +
		fmt.Sprintf(kubeadmDocument, joinKind, labels)
}

// check loads and validates the config at path and summarises its nodes.
func check(path string) (*Summary, error) {
	cfg, err := encoding.Load(path)
	if err != nil {
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	summary := &Summary{Name: cfg.Name}
	for i := range cfg.Nodes {
		node := &cfg.Nodes[i]
		labels, err := effectiveLabels(node)
		if err != nil {
			return nil, fmt.Errorf("node %d (%s): %w", i, node.Role, err)
		}
		ns := NodeSummary{Role: string(node.Role), Image: node.Image, Labels: labels,
			PortMappings: []PortMapping{}}
		for _, pm := range node.ExtraPortMappings {
			ns.PortMappings = append(ns.PortMappings, PortMapping{
				ContainerPort: pm.ContainerPort, HostPort: pm.HostPort,
				ListenAddress: pm.ListenAddress, Protocol: string(pm.Protocol),
			})
		}
		summary.Nodes = append(summary.Nodes, ns)
	}
	return summary, nil
}

// effectiveLabels returns the node's `labels` merged with any node-labels its
// kubeadm patches set. The control-plane node registers through the
// InitConfiguration, the others through the JoinConfiguration.
func effectiveLabels(node *config.Node) (map[string]string, error) {
	keys := make([]string, 0, len(node.Labels))
	for k := range node.Labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	pairs := make([]string, 0, len(keys))
	for _, k := range keys {
		pairs = append(pairs, k+"="+node.Labels[k])
	}
	patched, err := patch.KubeYAML(kubeadmStub(strings.Join(pairs, ",")),
		node.KubeadmConfigPatches, node.KubeadmConfigPatchesJSON6902)
	if err != nil {
		return nil, fmt.Errorf("kubeadm config patches: %w", err)
	}
	kind := joinKind
	if node.Role == config.ControlPlaneRole {
		kind = initKind
	}
	return nodeLabelsOf(patched, kind)
}
