package service

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"syscall"
	"time"
	"unicode"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"csphub"
	"csphub/internal/store"
)

// Single sign-on with OpenID Connect: an organization's global admin names
// its provider; its users then sign in there (authorization code flow with
// PKCE S256, a nonce and a state) and csphub opens an ordinary session for
// the existing user with the verified email. Nobody is created on the fly:
// user management creates users.
//
// Multi-factor authentication: an "amr" claim of the provider (even one
// containing "mfa") does not count. csphub cannot tell how strong the
// provider's second factor is, nor whether the provider checked one at all,
// so partner and operator users still pass csphub's own TOTP after signing
// in, exactly as after a password.
const (
	ssoAttemptLifetime = 10 * time.Minute
	ssoHTTPTimeout     = 10 * time.Second
	ssoMaxResponse     = 1 << 20
	maxSSODomains      = 50
	// SSOCallbackPath is where providers send the browser back; the
	// redirect URI to register at the provider is BaseURL + this path.
	SSOCallbackPath = "/auth/sso/callback"
)

// SSOSettings is an organization's OpenID Connect provider as its admins
// see it. The client secret is never part of it.
type SSOSettings struct {
	OrganizationID  string    `json:"organization_id"`
	Issuer          string    `json:"issuer"`
	ClientID        string    `json:"client_id"`
	ClientSecretSet bool      `json:"client_secret_set" doc:"A client secret is stored; it is never shown"`
	AllowedDomains  []string  `json:"allowed_domains" doc:"Email domains whose users may sign in through the provider"`
	Enabled         bool      `json:"enabled"`
	RedirectURI     string    `json:"redirect_uri" doc:"The redirect URI to register for the client at the provider"`
	CreatedAt       time.Time `json:"created_at"`
	UpdatedAt       time.Time `json:"updated_at"`
}

// ConfigureSSOInput names an organization's OpenID Connect provider.
type ConfigureSSOInput struct {
	Issuer         string   `json:"issuer" minLength:"1" maxLength:"2048" doc:"Issuer URL of the OpenID provider, e.g. https://login.contoso.com; its discovery document must answer at /.well-known/openid-configuration"`
	ClientID       string   `json:"client_id" minLength:"1" maxLength:"255" doc:"Client id csphub is registered under at the provider"`
	ClientSecret   string   `json:"client_secret,omitempty" maxLength:"1024" writeOnly:"true" doc:"Client secret (write-only, never shown). May be left out to keep the stored one while the issuer and client id stay the same"`
	AllowedDomains []string `json:"allowed_domains" minItems:"1" maxItems:"50" doc:"Email domains whose users may sign in through the provider, e.g. contoso.com"`
}

// ssoAuditView is what audit records and events show of a configuration:
// the settings, and whether the secret was replaced, never the secret.
type ssoAuditView struct {
	SSOSettings
	ClientSecretReplaced bool `json:"client_secret_replaced"`
}

var errSSONotConfigured = csphub.Errorf(csphub.KindNotFound, "sso_not_configured",
	"single sign-on is not set up for this organization or email domain")

// ssoAdmin admits the global admin of an organization acting in it, never
// someone acting on its behalf: the provider decides who can sign in.
func ssoAdmin(actor csphub.Actor) error {
	if (actor.Kind != csphub.ActorUser && actor.Kind != csphub.ActorToken) || actor.TenantID() != actor.OrgID ||
		!actor.HasRole(csphub.RoleGlobalAdmin) {
		return csphub.Errorf(csphub.KindForbidden, "global_admin_required", "only a global admin of the organization can manage its single sign-on")
	}
	return nil
}

// SSORedirectURI is the redirect URI to register at a provider, which
// admins need before any setting is saved.
func (s *Service) SSORedirectURI() string { return s.ssoRedirectURI() }

func (s *Service) ssoRedirectURI() string {
	return strings.TrimSuffix(s.opts.BaseURL, "/") + SSOCallbackPath
}

func (s *Service) ssoSettings(c store.SSOConfig) SSOSettings {
	return SSOSettings{OrganizationID: c.OrgID, Issuer: c.Issuer, ClientID: c.ClientID, ClientSecretSet: c.ClientSecret != "",
		AllowedDomains: c.AllowedDomains, Enabled: c.Enabled(), RedirectURI: s.ssoRedirectURI(), CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
}

// ConfigureSSO sets (or replaces) the OpenID Connect provider of the
// actor's organization and enables it. The issuer is checked by discovery
// before anything is stored.
func (s *Service) ConfigureSSO(ctx context.Context, actor csphub.Actor, in ConfigureSSOInput) (SSOSettings, error) {
	if err := ssoAdmin(actor); err != nil {
		return SSOSettings{}, err
	}
	var fields []csphub.FieldError
	issuer := strings.TrimSpace(in.Issuer)
	if fe := s.checkIssuer(issuer); fe != nil {
		fields = append(fields, *fe)
	}
	clientID := strings.TrimSpace(in.ClientID)
	if clientID == "" || len(clientID) > 255 || strings.ContainsFunc(clientID, unicode.IsControl) {
		fields = append(fields, csphub.FieldError{Field: "client_id", Code: "invalid_client_id", Message: "must be the client id the provider gave, on one line"})
	}
	if strings.ContainsFunc(in.ClientSecret, unicode.IsControl) {
		fields = append(fields, csphub.FieldError{Field: "client_secret", Code: "invalid_client_secret", Message: "must not contain control characters"})
	}
	domains, fe := checkDomains(in.AllowedDomains)
	if fe != nil {
		fields = append(fields, *fe)
	}
	if len(fields) > 0 {
		return SSOSettings{}, csphub.Invalid(fields...)
	}
	// Discovery runs outside any transaction: it waits on the network.
	if _, err := s.discover(ctx, issuer); err != nil {
		s.log.InfoContext(ctx, "sso discovery failed", "issuer", issuer, "error", err)
		return SSOSettings{}, csphub.Invalid(csphub.FieldError{Field: "issuer", Code: "issuer_discovery_failed",
			Message: "no OpenID provider answered for this issuer (its /.well-known/openid-configuration must be reachable and name this exact issuer)"})
	}
	return write(ctx, s, func(tx *store.Tx) (SSOSettings, error) {
		old, err := tx.SSOConfig(actor.OrgID)
		existed := err == nil
		if err != nil && csphub.ErrorKind(err) != csphub.KindNotFound {
			return SSOSettings{}, err
		}
		secret := in.ClientSecret
		if secret == "" {
			// Keeping the secret is allowed only for the same issuer and
			// client: otherwise whoever changes the issuer would have
			// csphub send the stored secret to a server of their choosing.
			if !existed || old.Issuer != issuer || old.ClientID != clientID {
				return SSOSettings{}, csphub.Invalid(csphub.FieldError{Field: "client_secret", Code: "client_secret_required",
					Message: "give the client secret when setting up single sign-on or changing the issuer or client id"})
			}
			secret = old.ClientSecret
		}
		c := store.SSOConfig{OrgID: actor.OrgID, Issuer: issuer, ClientID: clientID, ClientSecret: secret, AllowedDomains: domains}
		if err := tx.SaveSSOConfig(c); err != nil {
			return SSOSettings{}, err
		}
		saved, err := tx.SSOConfig(actor.OrgID)
		if err != nil {
			return SSOSettings{}, err
		}
		after := ssoAuditView{SSOSettings: s.ssoSettings(saved), ClientSecretReplaced: in.ClientSecret != ""}
		var before any
		if existed {
			before = s.ssoSettings(old)
		}
		if err := tx.Audit(actor, csphub.AuditEntry{Action: "sso.configure", ResourceType: "sso_config", ResourceID: actor.OrgID,
			Before: before, After: after}); err != nil {
			return SSOSettings{}, err
		}
		if err := tx.Emit(actor, csphub.EventEntry{Type: "organization.sso_configured", Subject: actor.OrgID, Data: after}); err != nil {
			return SSOSettings{}, err
		}
		return after.SSOSettings, nil
	})
}

// GetSSO returns the OpenID Connect provider of the actor's organization.
func (s *Service) GetSSO(ctx context.Context, actor csphub.Actor) (SSOSettings, error) {
	if err := ssoAdmin(actor); err != nil {
		return SSOSettings{}, err
	}
	return read(ctx, s, func(tx *store.Tx) (SSOSettings, error) {
		c, err := tx.SSOConfig(actor.OrgID)
		if err != nil {
			return SSOSettings{}, err
		}
		return s.ssoSettings(c), nil
	})
}

// DisableSSO turns sign-in through the organization's provider off (the
// settings stay, for re-enabling) and voids the sign-ins in flight.
// Sessions already open are not ended: they are ordinary sessions.
func (s *Service) DisableSSO(ctx context.Context, actor csphub.Actor) error {
	if err := ssoAdmin(actor); err != nil {
		return err
	}
	_, err := write(ctx, s, func(tx *store.Tx) (struct{}, error) {
		old, err := tx.SSOConfig(actor.OrgID)
		if err != nil || !old.Enabled() {
			return struct{}{}, err // already off: nothing changes, nothing to record
		}
		if err := tx.DisableSSOConfig(actor.OrgID); err != nil {
			return struct{}{}, err
		}
		now, err := tx.SSOConfig(actor.OrgID)
		if err != nil {
			return struct{}{}, err
		}
		after := s.ssoSettings(now)
		if err := tx.Audit(actor, csphub.AuditEntry{Action: "sso.disable", ResourceType: "sso_config", ResourceID: actor.OrgID,
			Before: s.ssoSettings(old), After: after}); err != nil {
			return struct{}{}, err
		}
		return struct{}{}, tx.Emit(actor, csphub.EventEntry{Type: "organization.sso_disabled", Subject: actor.OrgID, Data: after})
	})
	return err
}

// StartSSOInput picks the organization whose provider to sign in with:
// by id, or by the domain of the user's email address.
type StartSSOInput struct {
	OrgID         string
	Email         string
	RedirectAfter string // a path of csphub to land on after signing in
}

// SSOStart is where to send the browser. State must also be bound to the
// browser (a cookie) and given back to FinishSSO with the callback.
type SSOStart struct {
	AuthURL   string
	State     string
	ExpiresAt time.Time
}

// StartSSO begins a sign-in at an organization's provider: it stores a new
// single-use attempt (hashes of the state and nonce, the PKCE verifier) and
// returns the provider's authorization URL.
func (s *Service) StartSSO(ctx context.Context, in StartSSOInput) (SSOStart, error) {
	if (in.OrgID == "") == (in.Email == "") {
		return SSOStart{}, csphub.Invalid(csphub.FieldError{Field: "org", Code: "org_or_email_required", Message: "give either an organization id or an email address"})
	}
	var domain string
	if in.Email != "" {
		email, fe := checkEmail("email", in.Email)
		if fe != nil {
			return SSOStart{}, csphub.Invalid(*fe)
		}
		domain = email[strings.LastIndex(email, "@")+1:]
	} else if !csphub.ValidID(in.OrgID) {
		return SSOStart{}, errSSONotConfigured
	}
	cfg, err := read(ctx, s, func(tx *store.Tx) (store.SSOConfig, error) {
		orgID := in.OrgID
		if domain != "" {
			orgs, err := tx.SSOOrgsForDomain(domain)
			if err != nil {
				return store.SSOConfig{}, err
			}
			if len(orgs) != 1 {
				// None, or several organizations claim the domain: the user
				// has to use their organization's own sign-in link.
				return store.SSOConfig{}, errSSONotConfigured
			}
			orgID = orgs[0]
		}
		c, err := tx.SSOConfig(orgID)
		if csphub.ErrorKind(err) == csphub.KindNotFound || err == nil && !c.Enabled() {
			return store.SSOConfig{}, errSSONotConfigured
		}
		return c, err
	})
	if err != nil {
		return SSOStart{}, err
	}
	provider, err := s.discover(ctx, cfg.Issuer)
	if err != nil {
		s.log.WarnContext(ctx, "sso discovery failed", "org", cfg.OrgID, "issuer", cfg.Issuer, "error", err)
		return SSOStart{}, csphub.Errorf(csphub.KindUnprocessable, "sso_provider_unavailable",
			"the organization's identity provider does not answer; try again later")
	}
	state, stateHash, err := newSecret("")
	if err != nil {
		return SSOStart{}, err
	}
	nonce, nonceHash, err := newSecret("")
	if err != nil {
		return SSOStart{}, err
	}
	verifier := oauth2.GenerateVerifier()
	attempt, err := write(ctx, s, func(tx *store.Tx) (store.SSOAttempt, error) {
		a := store.SSOAttempt{StateHash: stateHash, OrgID: cfg.OrgID, Issuer: cfg.Issuer, ClientID: cfg.ClientID,
			NonceHash: nonceHash, PKCEVerifier: verifier, RedirectAfter: localPath(in.RedirectAfter),
			CreatedAt: tx.Now(), ExpiresAt: tx.Now().Add(ssoAttemptLifetime)}
		return a, tx.InsertSSOAttempt(a)
	})
	if err != nil {
		return SSOStart{}, err
	}
	opts := []oauth2.AuthCodeOption{oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)}
	if in.Email != "" {
		opts = append(opts, oauth2.SetAuthURLParam("login_hint", strings.ToLower(strings.TrimSpace(in.Email))))
	}
	return SSOStart{AuthURL: s.oauth2Config(cfg, provider).AuthCodeURL(state, opts...), State: state, ExpiresAt: attempt.ExpiresAt}, nil
}

// SSOSignIn is a session opened through a provider, and where the user
// wanted to go.
type SSOSignIn struct {
	Session       Session
	RedirectAfter string
}

// errSSORefused is what the browser learns when the provider's answer does
// not hold up; the precise reason goes to the audit record and the log.
var errSSORefused = csphub.Errorf(csphub.KindUnauthenticated, "sso_sign_in_failed",
	"the identity provider's answer could not be verified; start the sign-in again")

// FinishSSO completes a sign-in when the provider sends the browser back
// with state and code. The attempt of state is consumed first, whatever
// follows; then the code is redeemed with the PKCE verifier, the ID token
// is verified (signature, issuer, audience = client id, expiry, nonce), the
// email must be verified and in an allowed domain, and it must belong to an
// active user of that same organization. The session is opened as for a
// password sign-in, with the same MFA rules.
func (s *Service) FinishSSO(ctx context.Context, state, code string) (SSOSignIn, error) {
	type begun struct {
		attempt store.SSOAttempt
		cfg     store.SSOConfig
	}
	if state == "" || len(state) > 512 {
		return SSOSignIn{}, csphub.Errorf(csphub.KindUnauthenticated, "sso_state_invalid",
			"this sign-in link has expired or was already used; start the sign-in again")
	}
	b, err := write(ctx, s, func(tx *store.Tx) (begun, error) {
		a, err := tx.ConsumeSSOAttempt(hashSecret(state))
		if err != nil {
			return begun{}, err
		}
		c, err := tx.SSOConfig(a.OrgID)
		if err != nil && csphub.ErrorKind(err) != csphub.KindNotFound {
			return begun{}, err
		}
		return begun{attempt: a, cfg: c}, nil
	})
	if err != nil {
		return SSOSignIn{}, err
	}
	a := b.attempt
	if !sameProvider(b.cfg, a) {
		return SSOSignIn{}, s.ssoFailed(ctx, a, "sso_disabled", errSSONotConfigured)
	}
	if code == "" {
		return SSOSignIn{}, s.ssoFailed(ctx, a, "provider_error", errSSORefused)
	}
	id, reason, err := s.verifiedIdentity(ctx, b.cfg, a, code)
	if err != nil {
		s.log.WarnContext(ctx, "sso sign-in refused", "org", a.OrgID, "issuer", a.Issuer, "reason", reason, "error", err)
		answer := errSSORefused
		switch reason {
		case "email_not_verified":
			answer = csphub.Errorf(csphub.KindForbidden, "sso_email_not_verified", "the identity provider has not verified your email address")
		case "email_domain_not_allowed":
			answer = csphub.Errorf(csphub.KindForbidden, "sso_email_not_allowed", "your email domain may not sign in to this organization through single sign-on")
		}
		return SSOSignIn{}, s.ssoFailed(ctx, a, reason, answer)
	}
	noAccount := csphub.Errorf(csphub.KindForbidden, "sso_no_account",
		"no active csphub user of this organization has your email address; ask an administrator to add you")
	type outcome struct {
		sess   Session
		reason string
	}
	out, err := write(ctx, s, func(tx *store.Tx) (outcome, error) {
		// Read again: the configuration may have changed during the round
		// trip to the provider.
		c, err := tx.SSOConfig(a.OrgID)
		if err != nil && csphub.ErrorKind(err) != csphub.KindNotFound {
			return outcome{}, err
		}
		if !sameProvider(c, a) {
			return outcome{reason: "sso_disabled"}, nil
		}
		u, err := tx.UserByEmail(id.email)
		if csphub.ErrorKind(err) == csphub.KindNotFound {
			return outcome{reason: "no_account"}, nil
		}
		if err != nil {
			return outcome{}, err
		}
		// Emails are unique across the deployment, so the user found may be
		// another organization's: a provider speaks for its own
		// organization only.
		if u.OrgID != a.OrgID || u.Status != csphub.UserActive {
			return outcome{reason: "no_account"}, nil
		}
		sess, err := s.openSession(tx, u)
		if err != nil {
			return outcome{}, err
		}
		return outcome{sess: sess}, tx.Audit(actorOf(u, false), csphub.AuditEntry{Action: "session.sign_in", ResourceType: "user",
			ResourceID: u.ID, After: map[string]string{"method": "sso", "issuer": a.Issuer}})
	})
	switch {
	case err != nil:
		return SSOSignIn{}, err
	case out.reason == "sso_disabled":
		return SSOSignIn{}, s.ssoFailed(ctx, a, out.reason, errSSONotConfigured)
	case out.reason != "":
		return SSOSignIn{}, s.ssoFailed(ctx, a, out.reason, noAccount)
	}
	return SSOSignIn{Session: out.sess, RedirectAfter: a.RedirectAfter}, nil
}

// sameProvider reports whether c is enabled and still names the provider
// the attempt went to.
func sameProvider(c store.SSOConfig, a store.SSOAttempt) bool {
	return c.OrgID == a.OrgID && c.Enabled() && c.Issuer == a.Issuer && c.ClientID == a.ClientID
}

// ssoFailed records a refused sign-in in the security log of the
// organization whose provider was used, and returns answer. The record
// names no user: the email may be another organization's.
func (s *Service) ssoFailed(ctx context.Context, a store.SSOAttempt, reason string, answer error) error {
	actor := csphub.System(csphub.RequestID(ctx))
	actor.OrgID = a.OrgID
	_, err := write(ctx, s, func(tx *store.Tx) (struct{}, error) {
		return struct{}{}, tx.Audit(actor, csphub.AuditEntry{Action: "session.sign_in_failed", ResourceType: "organization",
			ResourceID: a.OrgID, After: map[string]string{"method": "sso", "issuer": a.Issuer, "reason": reason}})
	})
	if err != nil {
		return err
	}
	return answer
}

type ssoIdentity struct {
	subject string
	email   string
}

// verifiedIdentity redeems the code and checks the ID token. On failure it
// names the reason (for the audit record) beside the error (for the log).
func (s *Service) verifiedIdentity(ctx context.Context, cfg store.SSOConfig, a store.SSOAttempt, code string) (ssoIdentity, string, error) {
	ctx, cancel := context.WithTimeout(ctx, ssoHTTPTimeout)
	defer cancel()
	provider, err := s.discover(ctx, cfg.Issuer)
	if err != nil {
		return ssoIdentity{}, "provider_unavailable", err
	}
	tok, err := s.oauth2Config(cfg, provider).Exchange(ctx, code, oauth2.VerifierOption(a.PKCEVerifier))
	if err != nil {
		return ssoIdentity{}, "code_exchange_failed", err
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return ssoIdentity{}, "id_token_missing", errors.New("the token response has no id_token")
	}
	// go-oidc checks the signature against the provider's keys, the issuer,
	// that the client id is an audience, and the expiry (on csphub's clock).
	idt, err := provider.Verifier(&oidc.Config{ClientID: cfg.ClientID, Now: s.clock.Now}).Verify(ctx, raw)
	if err != nil {
		return ssoIdentity{}, "id_token_invalid", err
	}
	if subtle.ConstantTimeCompare([]byte(hashSecret(idt.Nonce)), []byte(a.NonceHash)) != 1 {
		return ssoIdentity{}, "nonce_mismatch", errors.New("the ID token's nonce is not the one sent")
	}
	var claims struct {
		AuthorizedParty string          `json:"azp"`
		Email           string          `json:"email"`
		EmailVerified   json.RawMessage `json:"email_verified"`
	}
	if err := idt.Claims(&claims); err != nil {
		return ssoIdentity{}, "id_token_invalid", err
	}
	// With several audiences, the token must have been issued to csphub
	// (OpenID Connect Core 3.1.3.7).
	if len(idt.Audience) > 1 && claims.AuthorizedParty != cfg.ClientID {
		return ssoIdentity{}, "id_token_invalid", fmt.Errorf("azp %q is not the client id", claims.AuthorizedParty)
	}
	if idt.AccessTokenHash != "" {
		if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
			return ssoIdentity{}, "id_token_invalid", err
		}
	}
	email, verified := claims.Email, isTrue(claims.EmailVerified)
	if email == "" || len(claims.EmailVerified) == 0 {
		// Many providers put the email in the userinfo answer only; it
		// counts only if it is about the same subject (Core 5.3.2).
		ui, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
		if err != nil {
			return ssoIdentity{}, "userinfo_failed", err
		}
		if ui.Subject != idt.Subject {
			return ssoIdentity{}, "id_token_invalid", errors.New("the userinfo subject is not the ID token's")
		}
		email, verified = ui.Email, ui.EmailVerified
	}
	email = strings.ToLower(strings.TrimSpace(email))
	if _, fe := checkEmail("email", email); fe != nil {
		return ssoIdentity{}, "email_missing", errors.New("the provider gave no usable email address")
	}
	if !verified {
		return ssoIdentity{}, "email_not_verified", errors.New("email_verified is not true")
	}
	if !slices.Contains(cfg.AllowedDomains, email[strings.LastIndex(email, "@")+1:]) {
		return ssoIdentity{}, "email_domain_not_allowed", fmt.Errorf("the email domain is not among %v", cfg.AllowedDomains)
	}
	return ssoIdentity{subject: idt.Subject, email: email}, "", nil
}

// isTrue reads email_verified, which some providers send as a string.
func isTrue(raw json.RawMessage) bool {
	s := strings.TrimSpace(string(raw))
	return s == "true" || s == `"true"`
}

func (s *Service) oauth2Config(c store.SSOConfig, p *oidc.Provider) *oauth2.Config {
	return &oauth2.Config{ClientID: c.ClientID, ClientSecret: c.ClientSecret, Endpoint: p.Endpoint(),
		RedirectURL: s.ssoRedirectURI(), Scopes: []string{oidc.ScopeOpenID, "email"}}
}

// discover reads the provider's discovery document. The provider is looked
// up afresh for every sign-in, so key rotations and endpoint moves are seen
// at once, at the cost of a request.
func (s *Service) discover(ctx context.Context, issuer string) (*oidc.Provider, error) {
	ctx, cancel := context.WithTimeout(ctx, ssoHTTPTimeout)
	defer cancel()
	p, err := oidc.NewProvider(oidc.ClientContext(ctx, s.idpClient()), issuer)
	if err != nil {
		return nil, err
	}
	if e := p.Endpoint(); e.AuthURL == "" || e.TokenURL == "" {
		return nil, errors.New("the discovery document names no authorization or token endpoint")
	}
	return p, nil
}

// checkIssuer accepts an https URL with a host and nothing after the path;
// plain http only on loopback, and only where private issuers are allowed
// (development, tests).
func (s *Service) checkIssuer(issuer string) *csphub.FieldError {
	bad := &csphub.FieldError{Field: "issuer", Code: "invalid_issuer", Message: "must be an https URL like https://login.contoso.com"}
	u, err := url.Parse(issuer)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || strings.ContainsFunc(issuer, unicode.IsSpace) {
		return bad
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if ip, err := netip.ParseAddr(u.Hostname()); err == nil && ip.IsLoopback() && s.opts.SSOAllowPrivateIssuers {
			return nil
		}
	}
	return bad
}

func checkDomains(in []string) ([]string, *csphub.FieldError) {
	bad := &csphub.FieldError{Field: "allowed_domains", Code: "invalid_domain",
		Message: fmt.Sprintf("must list 1 to %d domain names like contoso.com", maxSSODomains)}
	if len(in) == 0 || len(in) > maxSSODomains {
		return nil, bad
	}
	var out []string
	for _, d := range in {
		d = strings.ToLower(strings.TrimSpace(d))
		if len(d) > 253 || !domainShape.MatchString(d) {
			return nil, bad
		}
		if !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	slices.Sort(out)
	return out, nil
}

// localPath keeps a redirect inside csphub: a path of this site, never a
// URL of another (no scheme, no host, no //host, no backslash tricks).
func localPath(p string) string {
	if p == "" || len(p) > 2048 || !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") ||
		strings.ContainsAny(p, "\\") || strings.ContainsFunc(p, unicode.IsControl) {
		return "/"
	}
	u, err := url.Parse(p)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return "/"
	}
	return p
}

// idpClient is the HTTP client for providers: bounded in time and in
// response size, and, unless private issuers are allowed, unable to reach
// loopback, private or link-local addresses whatever a name resolves to.
// No proxy: it would hide the address actually reached.
func (s *Service) idpClient() *http.Client {
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	if !s.opts.SSOAllowPrivateIssuers {
		dialer.Control = refuseNonPublicAddress
	}
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		TLSHandshakeTimeout:   5 * time.Second,
		ResponseHeaderTimeout: ssoHTTPTimeout,
		DisableKeepAlives:     true, // one client per sign-in: nothing to reuse
		ForceAttemptHTTP2:     true,
	}
	return &http.Client{Timeout: ssoHTTPTimeout, Transport: limitedTransport{tr}}
}

var cgnat = netip.MustParsePrefix("100.64.0.0/10")

func refuseNonPublicAddress(_, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return err
	}
	ip = ip.Unmap()
	if !ip.IsGlobalUnicast() || ip.IsPrivate() || cgnat.Contains(ip) {
		return fmt.Errorf("identity provider address %s is not public", ip)
	}
	return nil
}

// limitedTransport caps response bodies, so that a hostile provider cannot
// exhaust memory (go-oidc reads bodies whole).
type limitedTransport struct{ next http.RoundTripper }

func (t limitedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	res, err := t.next.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	res.Body = limitedBody{io.LimitReader(res.Body, ssoMaxResponse), res.Body}
	return res, nil
}

type limitedBody struct {
	io.Reader
	io.Closer
}
