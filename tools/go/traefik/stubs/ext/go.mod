// Stands in for Traefik's nested module pkg/config/dynamic/ext, which the module
// proxy cannot serve (Traefik reaches it through a replace directive of its own).
module github.com/traefik/traefik/dynamic/ext

go 1.26.0
