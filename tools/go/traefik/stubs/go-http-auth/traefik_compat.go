package auth

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Added to upstream go-http-auth v0.4.0 at build time: the two functions Traefik
// calls from its own fork (which the module proxy cannot serve), and the nonce
// bookkeeping both digest challenges share under the lock CheckAuth already takes.

// CheckSecret reports whether password matches secret, an htpasswd hash
// (MD5-crypt "$apr1$"/"$1$", "{SHA}" or bcrypt "$2a$", "$2b$", "$2x$", "$2y$").
func CheckSecret(password, secret string) bool {
	compare := compareFuncs[0].compare
	for _, candidate := range compareFuncs[1:] {
		if strings.HasPrefix(secret, candidate.prefix) {
			compare = candidate.compare
			break
		}
	}
	return compare([]byte(secret), []byte(password)) == nil
}

// RequireAuthStale answers like RequireAuth with a fresh nonce, but marks the
// challenge stale=true (RFC 7616 section 3.3) so the client retries with the new
// nonce without asking the user again.
func (a *DigestAuth) RequireAuthStale(w http.ResponseWriter, r *http.Request) {
	nonce := a.issueNonce()
	w.Header().Set(contentType, a.Headers.V().UnauthContentType)
	w.Header().Set(a.Headers.V().Authenticate,
		fmt.Sprintf(`Digest realm="%s", nonce="%s", opaque="%s", algorithm="MD5", qop="auth", stale=true`,
			a.Realm, nonce, a.Opaque))
	w.WriteHeader(a.Headers.V().UnauthCode)
	_, _ = w.Write([]byte(a.Headers.V().UnauthResponse))
}

// issueNonce records a new client nonce, purging old ones past the cache size.
// Upstream's RequireAuth touches the nonce map without the lock, which crashes a
// server answering concurrent requests; the build patches it to call this.
func (a *DigestAuth) issueNonce() string {
	a.mutex.Lock()
	defer a.mutex.Unlock()
	if len(a.clients) > a.ClientCacheSize+a.ClientCacheTolerance {
		a.Purge(a.ClientCacheTolerance * 2)
	}
	nonce := RandomKey()
	a.clients[nonce] = &digest_client{nc: 0, last_seen: time.Now().UnixNano()}
	return nonce
}
