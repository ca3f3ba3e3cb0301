// Package ext holds the extension points Traefik v3.7 embeds in its dynamic
// configuration; open-source Traefik leaves them empty.
package ext

// HTTP is embedded in dynamic.HTTPConfiguration.
type HTTP struct{}

// Router is embedded in dynamic.Router.
type Router struct{}
