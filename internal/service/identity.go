package service

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/mail"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/language"

	"csphub"
	"csphub/internal/password"
	"csphub/internal/store"
)

// SignupInput creates a partner or customer organization with its first
// user, who becomes its global admin.
type SignupInput struct {
	Kind     string `json:"kind" enum:"partner,customer" doc:"partner (an indirect reseller or provider) or customer"`
	OrgName  string `json:"organization_name" minLength:"1" maxLength:"200" doc:"Legal or trading name of the organization"`
	Country  string `json:"country" minLength:"2" maxLength:"2" doc:"ISO 3166-1 alpha-2 country of the organization"`
	Domain   string `json:"domain" minLength:"3" maxLength:"253" doc:"Primary domain of the organization, e.g. contoso.com"`
	Name     string `json:"name" minLength:"1" maxLength:"200" doc:"Full name of the first user"`
	Email    string `json:"email" maxLength:"254" doc:"Work email of the first user"`
	Password string `json:"password" maxLength:"1024" doc:"At least 8 characters; long passphrases welcome"`
	Lang     string `json:"lang,omitempty" enum:"en,fr" doc:"Language of the user's pages and emails"`
}

// SignupResult is the new organization and its first user.
type SignupResult struct {
	Organization csphub.Organization `json:"organization"`
	User         csphub.User         `json:"user"`
}

var domainShape = regexp.MustCompile(`^(?i)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$`)

// ValidCountry reports whether code is an ISO 3166-1 alpha-2 country.
func ValidCountry(code string) bool {
	if len(code) != 2 || strings.ToUpper(code) != code {
		return false
	}
	r, err := language.ParseRegion(code)
	return err == nil && r.IsCountry() && r.String() == code
}

func checkEmail(field, email string) (string, *csphub.FieldError) {
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Address != strings.TrimSpace(email) || !strings.Contains(addr.Address, "@") {
		return "", &csphub.FieldError{Field: field, Code: "invalid_email", Message: "must be an email address like jane@contoso.com"}
	}
	return strings.ToLower(addr.Address), nil
}

// Signup creates an organization and its first user in one transaction.
func (s *Service) Signup(ctx context.Context, in SignupInput) (SignupResult, error) {
	n, err := prepareOrganization(in, csphub.OrgKind(in.Kind))
	if err != nil {
		return SignupResult{}, err
	}
	return write(ctx, s, func(tx *store.Tx) (SignupResult, error) {
		return n.insert(ctx, tx)
	})
}

// newOrganization is a validated sign-up, its password hashed, ready to be
// stored in a use case's transaction.
type newOrganization struct {
	in           SignupInput
	kind         csphub.OrgKind
	email, lang  string
	domain, hash string
}

// prepareOrganization checks a sign-up for an organization of kind (every
// field, each error next to its field) and hashes the password, outside
// any transaction: a slow hash never holds SQLite's writer.
func prepareOrganization(in SignupInput, kind csphub.OrgKind) (newOrganization, error) {
	var fields []csphub.FieldError
	if kind != csphub.OrgPartner && kind != csphub.OrgCustomer {
		fields = append(fields, csphub.FieldError{Field: "kind", Code: "invalid_kind", Message: "must be partner or customer"})
	}
	in.OrgName, in.Name = strings.TrimSpace(in.OrgName), strings.TrimSpace(in.Name)
	for _, f := range []struct{ field, value string }{{"organization_name", in.OrgName}, {"name", in.Name}} {
		if f.value == "" || utf8.RuneCountInString(f.value) > 200 || strings.ContainsAny(f.value, "\r\n\x00") {
			fields = append(fields, csphub.FieldError{Field: f.field, Code: "invalid_name", Message: "must be 1 to 200 characters on one line"})
		}
	}
	if !ValidCountry(in.Country) {
		fields = append(fields, csphub.FieldError{Field: "country", Code: "invalid_country", Message: "must be an ISO 3166-1 alpha-2 country code like FR or US"})
	}
	domain := strings.ToLower(strings.TrimSpace(in.Domain))
	if !domainShape.MatchString(domain) || len(domain) > 253 {
		fields = append(fields, csphub.FieldError{Field: "domain", Code: "invalid_domain", Message: "must be a domain name like contoso.com"})
	}
	email, fe := checkEmail("email", in.Email)
	if fe != nil {
		fields = append(fields, *fe)
	}
	lang := in.Lang
	if lang == "" {
		lang = "en"
	}
	if lang != "en" && lang != "fr" {
		fields = append(fields, csphub.FieldError{Field: "lang", Code: "unsupported_language", Message: "must be en or fr"})
	}
	if err := password.Check(in.Password, email, in.OrgName, domain); err != nil {
		if e := csphub.AsError(err); e != nil {
			fields = append(fields, e.Fields...)
		} else {
			return newOrganization{}, err
		}
	}
	if len(fields) > 0 {
		return newOrganization{}, csphub.Invalid(fields...)
	}
	hash, err := password.Hash(in.Password)
	if err != nil {
		return newOrganization{}, err
	}
	return newOrganization{in: in, kind: kind, email: email, lang: lang, domain: domain, hash: hash}, nil
}

// insert stores the organization and its first user, with their audit
// records and event, in tx.
func (n newOrganization) insert(ctx context.Context, tx *store.Tx) (SignupResult, error) {
	org := csphub.Organization{ID: csphub.NewID(), Kind: n.kind, Name: n.in.OrgName, Country: n.in.Country, Domain: n.domain, CreatedAt: tx.Now()}
	if err := tx.InsertOrganization(org); err != nil {
		return SignupResult{}, err
	}
	u := store.UserRecord{User: csphub.User{ID: csphub.NewID(), OrgID: org.ID, Email: n.email, Name: n.in.Name, Lang: n.lang,
		Status: csphub.UserActive, Roles: []string{csphub.FirstAdminRole(n.kind)}, CreatedAt: tx.Now()}, PasswordHash: n.hash}
	if err := tx.InsertUser(u); err != nil {
		return SignupResult{}, err
	}
	actor := csphub.Actor{Kind: csphub.ActorUser, ID: u.ID, OrgID: org.ID, OrgKind: n.kind, RequestID: csphub.RequestID(ctx)}
	if err := tx.Audit(actor, csphub.AuditEntry{Action: "organization.create", ResourceType: "organization", ResourceID: org.ID, After: org}); err != nil {
		return SignupResult{}, err
	}
	if err := tx.Audit(actor, csphub.AuditEntry{Action: "user.create", ResourceType: "user", ResourceID: u.ID, After: u.User}); err != nil {
		return SignupResult{}, err
	}
	if err := tx.Emit(actor, csphub.EventEntry{Type: "organization.created", Subject: org.ID, Data: org}); err != nil {
		return SignupResult{}, err
	}
	return SignupResult{Organization: org, User: u.User}, nil
}

// newSecret returns a 256-bit random secret, URL-safe, and its SHA-256.
// Only the hash is stored, so a copy of the database yields no usable
// session or token.
func newSecret(prefix string) (plain, hash string, err error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", "", err
	}
	plain = prefix + base64.RawURLEncoding.EncodeToString(b[:])
	return plain, hashSecret(plain), nil
}

func hashSecret(plain string) string {
	sum := sha256.Sum256([]byte(plain))
	return hex.EncodeToString(sum[:])
}

// actorOf builds the actor of a signed-in user.
func actorOf(u store.UserRecord, mfaPassed bool) csphub.Actor {
	return csphub.Actor{Kind: csphub.ActorUser, ID: u.ID, OrgID: u.OrgID, OrgKind: u.OrgKind, Roles: u.Roles, MFAPassed: mfaPassed}
}

// Me is the caller as GET /api/v1/me shows it.
type Me struct {
	User         *csphub.User        `json:"user,omitempty"`
	Token        *csphub.APIToken    `json:"api_token,omitempty"`
	Organization csphub.Organization `json:"organization"`
	Roles        []string            `json:"roles"`
	MFARequired  bool                `json:"mfa_required"`
	MFAPassed    bool                `json:"mfa_passed"`
}

// WhoAmI describes the caller.
func (s *Service) WhoAmI(ctx context.Context, actor csphub.Actor) (Me, error) {
	return read(ctx, s, func(tx *store.Tx) (Me, error) {
		org, err := tx.Organization(actor.OrgID, actor.OrgID)
		if err != nil {
			return Me{}, err
		}
		me := Me{Organization: org, Roles: actor.Roles, MFARequired: csphub.MFARequired(org.Kind), MFAPassed: actor.MFAPassed}
		switch actor.Kind {
		case csphub.ActorUser:
			u, err := tx.User(actor.OrgID, actor.ID)
			if err != nil {
				return Me{}, err
			}
			me.User = &u.User
		case csphub.ActorToken:
			t, err := tx.APIToken(actor.OrgID, actor.ID)
			if err != nil {
				return Me{}, err
			}
			me.Token = &t
		}
		return me, nil
	})
}

// utcPtr returns a pointer to t.
func utcPtr(t time.Time) *time.Time { return &t }
