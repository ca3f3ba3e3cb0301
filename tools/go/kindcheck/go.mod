// The module path sits under kind's pkg/ tree on purpose: Go lets only packages
// below sigs.k8s.io/kind/pkg import kind's internal config loader and validator,
// which `kind create cluster --config` runs. This module is a separate program
// that merely shares the path prefix; it changes nothing in kind.
module sigs.k8s.io/kind/pkg/paneldaskkindcheck

go 1.26

require (
	go.yaml.in/yaml/v3 v3.0.4
	sigs.k8s.io/kind v0.33.0
)

require (
	github.com/BurntSushi/toml v1.4.0 // indirect
	github.com/evanphx/json-patch/v5 v5.6.0 // indirect
	github.com/pelletier/go-toml v1.9.5 // indirect
	github.com/pkg/errors v0.9.1 // indirect
	sigs.k8s.io/yaml v1.4.0 // indirect
)
