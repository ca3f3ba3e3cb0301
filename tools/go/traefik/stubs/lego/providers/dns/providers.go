// Package dns replaces lego's DNS-01 provider registry: the real one links about
// 200 DNS provider SDKs, some of which the module proxy refuses to serve. The test
// clusters never request ACME certificates, so no provider is offered.
package dns

import (
	"fmt"

	"github.com/go-acme/lego/v5/challenge"
)

// NewDNSChallengeProviderByName always fails: this build has no DNS-01 provider.
func NewDNSChallengeProviderByName(name string) (challenge.Provider, error) {
	return nil, fmt.Errorf("DNS provider %q is not available: this Traefik is built without DNS-01 providers", name)
}
