package service

import (
	"context"
	"regexp"
	"strings"

	"csphub"
	"csphub/internal/store"
)

// Web-mail domains: a partner's primary contact must write from the
// company's own domain, never from a web-mail service. csphub refuses a
// built-in list of the large services, and the operator keeps a list of
// its own on top of it.
//
// Matching rules:
//   - domains are compared in lower case, without a trailing dot;
//   - a domain is web-mail when it or any of its parent domains is on
//     either list: mail.yahoo.fr and eu.post.example (with post.example on
//     the operator's list) are web-mail, since only the service controls
//     its subdomains;
//   - a built-in "name.*" entry stands for the service under any public
//     top-level domain: one label (yahoo.fr, outlook.com) or a country code
//     under co, com, net, org, ne or or (yahoo.co.uk, hotmail.com.br). So
//     live.contoso.com is not web-mail: contoso.com is not a top-level
//     domain.

// builtInWebmailDomains are refused with their subdomains.
var builtInWebmailDomains = []string{
	"gmail.com", "googlemail.com",
	"ymail.com", "rocketmail.com",
	"icloud.com", "me.com", "mac.com",
	"aol.com", "aim.com",
	"msn.com",
}

// builtInWebmailBrands are refused under any public top-level domain
// ("yahoo.*").
var builtInWebmailBrands = []string{"yahoo", "outlook", "hotmail", "live", "aol"}

// secondLevels are the labels under which a country code hands out
// domains to the public (co.uk, com.br, ne.jp).
var secondLevels = map[string]bool{"co": true, "com": true, "net": true, "org": true, "ne": true, "or": true}

var (
	topLabel     = regexp.MustCompile(`^(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$`)
	countryLabel = regexp.MustCompile(`^[a-z]{2}$`)
)

// maxWebmailDomains bounds the operator's list, which is read whole.
const maxWebmailDomains = 5000

// WebmailDomain is one domain of the operator's list.
type WebmailDomain = store.WebmailDomain

// WebmailDomains is what the operator's console shows: the built-in
// patterns and the operator's own list.
type WebmailDomains struct {
	BuiltIn  []string        `json:"built_in" doc:"Always refused, with their subdomains; name.* stands for the service under any public top-level domain (yahoo.fr, yahoo.co.uk)"`
	Operator []WebmailDomain `json:"operator" doc:"Added by the operator, by name; refused with their subdomains"`
}

// builtInWebmailPatterns lists the built-in list as the console shows it.
func builtInWebmailPatterns() []string {
	out := append([]string(nil), builtInWebmailDomains...)
	for _, b := range builtInWebmailBrands {
		out = append(out, b+".*")
	}
	return out
}

// normalizeDomain lower-cases a domain and drops a trailing dot.
func normalizeDomain(domain string) string {
	return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(domain)), ".")
}

// parentDomains returns domain and each parent with at least two labels:
// a.b.example.com, b.example.com, example.com.
func parentDomains(domain string) []string {
	out := []string{domain}
	for {
		_, rest, ok := strings.Cut(domain, ".")
		if !ok || !strings.Contains(rest, ".") {
			return out
		}
		out = append(out, rest)
		domain = rest
	}
}

// publicSuffix reports whether s is a top-level domain the built-in brands
// are matched under: one label, or a country code's public second level.
func publicSuffix(s string) bool {
	labels := strings.Split(s, ".")
	switch len(labels) {
	case 1:
		return topLabel.MatchString(labels[0])
	case 2:
		return secondLevels[labels[0]] && countryLabel.MatchString(labels[1])
	}
	return false
}

// builtInWebmail returns the built-in entry that makes a (normalized)
// domain web-mail, or "".
func builtInWebmail(domain string) string {
	for _, d := range parentDomains(domain) {
		for _, b := range builtInWebmailDomains {
			if d == b {
				return b
			}
		}
		brand, rest, _ := strings.Cut(d, ".")
		for _, b := range builtInWebmailBrands {
			if brand == b && publicSuffix(rest) {
				return b + ".*"
			}
		}
	}
	return ""
}

// isWebmail reports whether an email domain belongs to a web-mail service:
// the built-in list or the operator's, the domain itself or a parent (see
// the matching rules above).
func (s *Service) isWebmail(tx *store.Tx, domain string) (bool, error) {
	d := normalizeDomain(domain)
	if d == "" {
		return false, nil
	}
	if builtInWebmail(d) != "" {
		return true, nil
	}
	return tx.WebmailDomainListed(parentDomains(d))
}

var errWebmailAdminRequired = csphub.Errorf(csphub.KindForbidden, "operator_admin_required",
	"only an operator admin can manage the web-mail domains")

// webmailAdmin checks that actor is an operator admin acting in the
// operator organization, and returns that organization.
func webmailAdmin(tx *store.Tx, actor csphub.Actor) (csphub.Organization, error) {
	if !actor.HasRole(csphub.RoleOperatorAdmin) || actor.OrgID == "" {
		return csphub.Organization{}, errWebmailAdminRequired
	}
	op, err := tx.OperatorOrganization()
	if csphub.ErrorKind(err) == csphub.KindNotFound {
		return op, errWebmailAdminRequired
	}
	if err != nil {
		return op, err
	}
	if actor.OrgID != op.ID || actor.TenantID() != op.ID {
		return op, errWebmailAdminRequired
	}
	return op, nil
}

// checkWebmailDomain normalizes a domain the operator types.
func checkWebmailDomain(domain string) (string, *csphub.FieldError) {
	d := normalizeDomain(domain)
	if len(d) > 253 || !domainShape.MatchString(d) {
		return d, &csphub.FieldError{Field: "domain", Code: "invalid_domain", Message: "must be a domain name like mail.example"}
	}
	return d, nil
}

// ListWebmailDomains shows the built-in web-mail patterns and the
// operator's list. Operator admins only.
func (s *Service) ListWebmailDomains(ctx context.Context, actor csphub.Actor) (WebmailDomains, error) {
	return read(ctx, s, func(tx *store.Tx) (WebmailDomains, error) {
		if _, err := webmailAdmin(tx, actor); err != nil {
			return WebmailDomains{}, err
		}
		list, err := tx.WebmailDomains()
		if err != nil {
			return WebmailDomains{}, err
		}
		return WebmailDomains{BuiltIn: builtInWebmailPatterns(), Operator: list}, nil
	})
}

// AddWebmailDomain adds a domain to the operator's web-mail list: from
// then on, enrollments refuse a primary contact on it or its subdomains.
// A domain already listed, or already web-mail by the built-in list, is a
// conflict. Operator admins only.
func (s *Service) AddWebmailDomain(ctx context.Context, actor csphub.Actor, domain string) error {
	d, fe := checkWebmailDomain(domain)
	if fe != nil {
		return csphub.Invalid(*fe)
	}
	_, err := write(ctx, s, func(tx *store.Tx) (struct{}, error) {
		op, err := webmailAdmin(tx, actor)
		if err != nil {
			return struct{}{}, err
		}
		if b := builtInWebmail(d); b != "" {
			return struct{}{}, csphub.Conflict("webmail_domain_built_in", d+" is web-mail already: the built-in list has "+b)
		}
		n, err := tx.CountWebmailDomains()
		if err != nil {
			return struct{}{}, err
		}
		if n >= maxWebmailDomains {
			return struct{}{}, csphub.Conflict("webmail_domain_limit", "the list already holds the most web-mail domains it can; remove some first")
		}
		row := WebmailDomain{Domain: d, CreatedAt: tx.Now(), CreatedBy: actor.ID}
		if err := tx.InsertWebmailDomain(row); err != nil {
			return struct{}{}, err
		}
		if err := tx.Audit(actor, csphub.AuditEntry{Action: "webmail_domain.add", ResourceType: "webmail_domain", ResourceID: d, After: row}); err != nil {
			return struct{}{}, err
		}
		return struct{}{}, tx.Emit(actor, csphub.EventEntry{Type: "webmail_domain.added", Subject: d, Data: row, Audience: []string{op.ID}})
	})
	return err
}

// RemoveWebmailDomain takes a domain off the operator's web-mail list.
// Built-in domains cannot be removed. Operator admins only.
func (s *Service) RemoveWebmailDomain(ctx context.Context, actor csphub.Actor, domain string) error {
	d, fe := checkWebmailDomain(domain)
	if fe != nil {
		return csphub.Invalid(*fe)
	}
	_, err := write(ctx, s, func(tx *store.Tx) (struct{}, error) {
		op, err := webmailAdmin(tx, actor)
		if err != nil {
			return struct{}{}, err
		}
		before, err := tx.WebmailDomain(d, true)
		if csphub.ErrorKind(err) == csphub.KindNotFound {
			if b := builtInWebmail(d); b != "" {
				return struct{}{}, csphub.Conflict("webmail_domain_built_in", d+" is web-mail by the built-in list ("+b+"), which cannot be changed")
			}
		}
		if err != nil {
			return struct{}{}, err
		}
		if err := tx.DeleteWebmailDomain(d); err != nil {
			return struct{}{}, err
		}
		if err := tx.Audit(actor, csphub.AuditEntry{Action: "webmail_domain.remove", ResourceType: "webmail_domain", ResourceID: d, Before: before}); err != nil {
			return struct{}{}, err
		}
		return struct{}{}, tx.Emit(actor, csphub.EventEntry{Type: "webmail_domain.removed", Subject: d, Data: before, Audience: []string{op.ID}})
	})
	return err
}
