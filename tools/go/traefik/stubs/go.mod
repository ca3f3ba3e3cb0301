// Keeps these overlay sources out of the wrapper module's package list: they only
// compile once copied into the patched dependency trees (see traefik.py).
module paneldask/tools/traefik/stubs

go 1.26.0
