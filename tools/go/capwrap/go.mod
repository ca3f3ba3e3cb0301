// capwrap: our own OCI runtime wrapper for the kind node (see main.go); stdlib only.
module paneldask/tools/capwrap

go 1.26.0
