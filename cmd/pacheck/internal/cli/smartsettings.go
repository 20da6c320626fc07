package cli

import (
	"crypto"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/pacheck/pacheck/cmd/pacheck/internal/config"
	"github.com/pacheck/pacheck/internal/safefile"
	"github.com/pacheck/pacheck/suites/smart"
)

// smartSettings turns the run configuration's auth section into the SMART suite's settings.
func smartSettings(a config.Auth) (*smart.Settings, error) {
	s := &smart.Settings{ClientID: a.ClientID, ClientSecret: a.ClientSecret, AuthMethod: a.TokenEndpointAuth,
		RedirectURI: a.RedirectURI, Scopes: strings.Join(a.Scopes, " "), OtherPatient: a.OtherPatient,
		Login: login(a.Login)}
	if a.SecondMember != nil {
		l := login(*a.SecondMember)
		s.SecondMember = &l
	}
	if a.PrivateKey != "" {
		k, err := readPrivateJWK(a.PrivateKey)
		if err != nil {
			return nil, err
		}
		s.PrivateKey = k
	}
	s.AuthMethod = authMethod(s.AuthMethod, s.ClientSecret, s.PrivateKey != nil)
	s.ExpiredToken = a.ExpiredToken
	s.CodeLifetime = time.Duration(a.CodeLifetime)
	s.Browser.Parallel = a.ParallelSignIns
	for _, c := range a.ExtraClients {
		sc := smart.Client{ClientID: c.ClientID, ClientSecret: c.ClientSecret, RedirectURI: c.RedirectURI}
		if c.PrivateKey != "" {
			k, err := readPrivateJWK(c.PrivateKey)
			if err != nil {
				return nil, err
			}
			sc.PrivateKey = k
		}
		sc.AuthMethod = authMethod(c.TokenEndpointAuth, c.ClientSecret, sc.PrivateKey != nil)
		s.ExtraClients = append(s.ExtraClients, sc)
	}
	if a.Consent != nil {
		s.Consent = &smart.Consent{Scope: a.Consent.Scope, Steps: login(config.Login{Steps: a.Consent.Steps}).Steps}
	}
	if a.Deny != nil {
		s.Deny = &smart.Deny{Steps: login(config.Login{Steps: a.Deny.Steps}).Steps}
	}
	if a.Portal != nil {
		s.Portal = &smart.Portal{URL: a.Portal.URL, LaunchURL: a.Portal.LaunchURL, Steps: login(config.Login{Steps: a.Portal.Steps}).Steps}
	}
	return s, s.Validate()
}

// authMethod picks the token endpoint authentication a client's credentials imply.
func authMethod(given, secret string, hasKey bool) string {
	switch {
	case given != "":
		return given
	case hasKey:
		return "private_key_jwt"
	case secret != "":
		return "client_secret_basic"
	}
	return "none"
}

func login(l config.Login) smart.Login {
	out := smart.Login{Username: l.Username, Password: l.Password, Member: l.Member, TOTPSecret: l.TOTPSecret}
	for _, st := range l.Steps {
		out.Steps = append(out.Steps, st.Browser())
	}
	return out
}

// readPrivateJWK reads a private key for private_key_jwt: a JWK (JSON) or a PEM PKCS#8 key.
func readPrivateJWK(path string) (*jose.JSONWebKey, error) {
	b, err := safefile.ReadFile(path, safefile.SmallLimit) // a key is small; never a device or FIFO
	if err != nil {
		return nil, fmt.Errorf("auth.private_key: cannot read it (%v)", err)
	}
	var k jose.JSONWebKey
	if json.Valid(b) {
		if err := k.UnmarshalJSON(b); err != nil {
			return nil, fmt.Errorf("auth.private_key %s: not a usable JWK (%v)", path, err)
		}
	} else {
		blk, _ := pem.Decode(b)
		if blk == nil {
			return nil, fmt.Errorf("auth.private_key %s: neither a JWK nor a PEM file", path)
		}
		pk, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("auth.private_key %s: %v", path, err)
		}
		k = jose.JSONWebKey{Key: pk.(crypto.Signer)}
	}
	if k.IsPublic() {
		return nil, fmt.Errorf("auth.private_key %s: holds a public key; give the private key", path)
	}
	if k.KeyID == "" {
		if tp, err := k.Thumbprint(crypto.SHA256); err == nil {
			k.KeyID = fmt.Sprintf("%x", tp[:8])
		}
	}
	return &k, nil
}
