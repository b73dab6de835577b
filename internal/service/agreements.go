package service

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"

	"csphub"
	"csphub/internal/countries"
	"csphub/internal/store"
)

// The partner agreement.
//
// The operator publishes versions: a title, the text or a link to it, the
// date it takes effect and the regions it applies to. In a region, the
// version in force is the one that took effect last. A partner's region
// follows from its legal country (partner profile → markets); a partner
// with no profile is not enrolled yet and has no agreement to accept.
//
// Only a partner's global admin, signed in as themselves, accepts the
// version in force for the partner's region, with the signer's name,
// email and phone. When a newer version takes effect, the partner must
// accept it again.

const (
	// maxAgreementVersions bounds the lists of versions: a program
	// publishes a handful a year.
	maxAgreementVersions = 500
	maxAgreementBody     = 200_000 // characters
	maxAgreementURL      = 2000
	// maxAgreementLead is how far ahead a version may be scheduled.
	maxAgreementLead = 10 * 366 * 24 * time.Hour
)

var (
	errAgreementPublisher = csphub.Errorf(csphub.KindForbidden, "operator_admin_required",
		"only an operator admin can publish the partner agreement")
	errAgreementAcceptor = csphub.Errorf(csphub.KindForbidden, "global_admin_required",
		"only a global admin can accept the partner agreement")
	errAgreementSignerToken = csphub.Errorf(csphub.KindForbidden, "user_required",
		"the partner agreement is accepted by a person: a global admin signed in as themselves, not an API token")
	errAgreementPartnerOnly = csphub.Errorf(csphub.KindForbidden, "partner_required",
		"only a partner organization accepts the partner agreement")
	errAgreementReaders = csphub.Errorf(csphub.KindForbidden, "partner_or_operator_required",
		"the partner agreement is for partners and the operator")
	errAgreementNotEnrolled = csphub.Conflict("not_enrolled",
		"your organization has no partner profile yet: enrol in the partner program first")

	agreementVersionShape   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,49}$`)
	agreementPartnerIDShape = regexp.MustCompile(`^[0-9]{1,20}$`)
)

// PublishAgreementInput is a new version of the partner agreement.
type PublishAgreementInput struct {
	Version     string    `json:"version" maxLength:"50" doc:"Unique name of the version, e.g. 2026-04 or v3.1: letters, digits, dots, hyphens and underscores"`
	Title       string    `json:"title" maxLength:"200" doc:"Title shown to partners"`
	Body        string    `json:"body,omitempty" maxLength:"200000" doc:"The agreement as plain text, paragraphs separated by blank lines; body or url is required"`
	URL         string    `json:"url,omitempty" maxLength:"2000" doc:"https link to the agreement's document; body or url is required"`
	EffectiveAt time.Time `json:"effective_at,omitempty" doc:"When the version takes effect; after the effective date of the previous version of each of its regions"`
	Regions     []string  `json:"regions" maxItems:"50" doc:"Codes of the regions the version applies to, e.g. europe"`
}

// AcceptAgreementInput is who signs the agreement for the partner.
type AcceptAgreementInput struct {
	SignerName  string `json:"signer_name" maxLength:"200" doc:"Full name of the person who accepts"`
	SignerEmail string `json:"signer_email" maxLength:"254" doc:"Their work email"`
	SignerPhone string `json:"signer_phone" maxLength:"40" doc:"Their phone number; stored in international (E.164) form"`
}

// CanAcceptAgreement reports whether the actor is one who may accept the
// partner agreement: a global admin of a partner organization, signed in
// as themselves (not an API token, not through a delegated admin grant).
func CanAcceptAgreement(a csphub.Actor) bool {
	return a.OrgKind == csphub.OrgPartner && agreementAcceptor(a) == nil
}

// agreementAcceptor checks the actor's kind and role for an acceptance;
// the organization's kind is checked against the database separately.
func agreementAcceptor(a csphub.Actor) error {
	if a.OnBehalfOf != "" && a.OnBehalfOf != a.OrgID {
		return errAgreementAcceptor
	}
	if a.Kind == csphub.ActorToken {
		return errAgreementSignerToken
	}
	if a.Kind != csphub.ActorUser || !a.HasRole(csphub.RoleGlobalAdmin) {
		return errAgreementAcceptor
	}
	return nil
}

// agreementOrg returns the actor's own organization; acting through a
// delegated admin grant is refused with denied.
func agreementOrg(tx *store.Tx, actor csphub.Actor, denied error) (csphub.Organization, error) {
	if actor.OrgID == "" || !csphub.ValidID(actor.OrgID) || actor.OnBehalfOf != "" && actor.OnBehalfOf != actor.OrgID {
		return csphub.Organization{}, denied
	}
	org, err := tx.Organization(actor.OrgID, actor.OrgID)
	if csphub.ErrorKind(err) == csphub.KindNotFound {
		return org, denied
	}
	return org, err
}

// agreementRegionOf returns a partner's profile and region; ok is false
// when the partner has no profile (not enrolled) or sells in no market.
func agreementRegionOf(tx *store.Tx, orgID string, lock bool) (csphub.PartnerProfile, string, bool, error) {
	p, err := tx.PartnerProfile(orgID, lock)
	if csphub.ErrorKind(err) == csphub.KindNotFound {
		return p, "", false, nil
	}
	if err != nil {
		return p, "", false, err
	}
	m, err := tx.MarketOf(p.Address.Country)
	if csphub.ErrorKind(err) == csphub.KindNotFound {
		return p, "", false, nil
	}
	if err != nil {
		return p, "", false, err
	}
	return p, m.RegionCode, true, nil
}

// agreementStatus says where a partner organization stands with the
// agreement of its region, inside the caller's transaction. A partner
// with no profile has no region and nothing to accept.
func (s *Service) agreementStatus(tx *store.Tx, orgID string) (csphub.AgreementStatus, error) {
	var st csphub.AgreementStatus
	_, region, ok, err := agreementRegionOf(tx, orgID, false)
	if err != nil || !ok {
		return st, err
	}
	st.Region = region
	latest, accepted, err := tx.LatestAgreementAcceptance(orgID)
	if err != nil {
		return st, err
	}
	if accepted {
		st.Accepted = &latest
	}
	current, ok, err := tx.CurrentAgreement(region, tx.Now())
	if err != nil || !ok {
		return st, err
	}
	st.Current = &current
	switch {
	case !accepted:
	case latest.AgreementID == current.ID:
		st.Signed = true
	default:
		c, err := tx.AgreementAcceptance(orgID, current.ID)
		switch {
		case err == nil:
			st.Signed, st.Accepted = true, &c
		case csphub.ErrorKind(err) == csphub.KindNotFound:
			st.ReacceptanceRequired = true
		default:
			return st, err
		}
	}
	return st, nil
}

// ListAgreements lists the agreement's versions: for the operator, every
// version, the latest effective first; for a partner, the versions that
// took effect in its region, the one in force first (none before it has
// a partner profile).
func (s *Service) ListAgreements(ctx context.Context, actor csphub.Actor) ([]csphub.Agreement, error) {
	return read(ctx, s, func(tx *store.Tx) ([]csphub.Agreement, error) {
		org, err := agreementOrg(tx, actor, errAgreementReaders)
		if err != nil {
			return nil, err
		}
		var list []csphub.Agreement
		switch org.Kind {
		case csphub.OrgOperator:
			list, err = tx.Agreements(maxAgreementVersions)
		case csphub.OrgPartner:
			_, region, ok, rerr := agreementRegionOf(tx, org.ID, false)
			if err = rerr; ok && err == nil {
				list, err = tx.AgreementsInForce(region, tx.Now(), maxAgreementVersions)
			}
		default:
			return nil, errAgreementReaders
		}
		if list == nil {
			list = []csphub.Agreement{}
		}
		return list, err
	})
}

// ListAllAgreements is the operator's list of every version, the latest
// effective first; operator admins only.
func (s *Service) ListAllAgreements(ctx context.Context, actor csphub.Actor) ([]csphub.Agreement, error) {
	return read(ctx, s, func(tx *store.Tx) ([]csphub.Agreement, error) {
		if err := agreementPublisher(tx, actor); err != nil {
			return nil, err
		}
		list, err := tx.Agreements(maxAgreementVersions)
		if list == nil {
			list = []csphub.Agreement{}
		}
		return list, err
	})
}

// AgreementRegions lists the program's regions, for choosing those of a
// version.
func (s *Service) AgreementRegions(ctx context.Context, actor csphub.Actor) ([]csphub.Region, error) {
	return read(ctx, s, func(tx *store.Tx) ([]csphub.Region, error) {
		if _, err := agreementOrg(tx, actor, errAgreementReaders); err != nil {
			return nil, err
		}
		return tx.Regions()
	})
}

func agreementPublisher(tx *store.Tx, actor csphub.Actor) error {
	op, err := tx.OperatorOrganization()
	if csphub.ErrorKind(err) == csphub.KindNotFound {
		return errAgreementPublisher
	}
	if err != nil {
		return err
	}
	if actor.OrgID != op.ID || actor.TenantID() != op.ID || !actor.HasRole(csphub.RoleOperatorAdmin) {
		return errAgreementPublisher
	}
	return nil
}

// agreementPublication is what the audit trail and the event keep of a
// published version: the text itself stays in its row, which never
// changes; its digest proves which text was published.
type agreementPublication struct {
	csphub.Agreement
	BodySHA256 string `json:"body_sha256,omitempty"`
	BodyLength int    `json:"body_length"`
}

func publicationOf(a csphub.Agreement) agreementPublication {
	p := agreementPublication{Agreement: a, BodyLength: utf8.RuneCountInString(a.Body)}
	if a.Body != "" {
		sum := sha256.Sum256([]byte(a.Body))
		p.BodySHA256 = hex.EncodeToString(sum[:])
	}
	p.Body = ""
	return p
}

// checkPublication normalizes a new version and checks what needs no
// database: every field, each refusal with its own code.
func checkPublication(in PublishAgreementInput, now time.Time) (PublishAgreementInput, []csphub.FieldError) {
	var fields []csphub.FieldError
	add := func(field, code, msg string) {
		fields = append(fields, csphub.FieldError{Field: field, Code: code, Message: msg})
	}
	in.Version = strings.TrimSpace(in.Version)
	switch {
	case in.Version == "":
		add("version", "required", "is required: a name for this version, e.g. 2026-04")
	case !agreementVersionShape.MatchString(in.Version):
		add("version", "invalid_version", "must be 1 to 50 letters, digits, dots, hyphens or underscores, starting with a letter or digit")
	}
	in.Title = strings.TrimSpace(in.Title)
	switch {
	case in.Title == "":
		add("title", "required", "is required")
	case utf8.RuneCountInString(in.Title) > 200 || !utf8.ValidString(in.Title) || strings.ContainsAny(in.Title, "\r\n\x00"):
		add("title", "invalid_title", "must be at most 200 characters on one line")
	}
	in.Body = strings.TrimSpace(strings.ReplaceAll(strings.ReplaceAll(in.Body, "\r\n", "\n"), "\r", "\n"))
	switch {
	case !utf8.ValidString(in.Body) || strings.ContainsRune(in.Body, 0):
		add("body", "invalid_characters", "must be plain text")
	case utf8.RuneCountInString(in.Body) > maxAgreementBody:
		add("body", "too_long", "must be at most 200,000 characters; link to a document with url instead")
	}
	in.URL = strings.TrimSpace(in.URL)
	if in.URL != "" {
		u, err := url.Parse(in.URL)
		switch {
		case err != nil || len(in.URL) > maxAgreementURL || u.Host == "" || u.User != nil || strings.ContainsAny(in.URL, " \t\r\n\x00"):
			add("url", "invalid_url", "must be a web address like https://example.com/partner-agreement.pdf")
		case u.Scheme != "https":
			add("url", "https_required", "must start with https://")
		}
	}
	if in.Body == "" && in.URL == "" {
		add("body", "body_or_url_required", "is required unless you give a link to the agreement (url)")
	}
	switch {
	case in.EffectiveAt.IsZero():
		add("effective_at", "required", "is required: the date the version takes effect")
	case in.EffectiveAt.After(now.Add(maxAgreementLead)):
		add("effective_at", "too_far_ahead", "must be within ten years from today")
	default:
		in.EffectiveAt = csphub.Normalize(in.EffectiveAt)
	}
	var regions []string
	for _, r := range in.Regions {
		if r = strings.ToLower(strings.TrimSpace(r)); r != "" {
			regions = append(regions, r)
		}
	}
	in.Regions = slices.Compact(slices.Sorted(slices.Values(regions)))
	if len(in.Regions) == 0 {
		add("regions", "required", "choose at least one region")
	}
	return in, fields
}

// PublishAgreement publishes a new version of the partner agreement for
// some regions; operator admins only. Every field is checked and every
// refusal reported at once: a version name already used, a region that
// does not exist, neither text nor link, a link that is not https, and an
// effective date that is not after the previous version's in each region
// (so that in a region versions take effect one after the other).
func (s *Service) PublishAgreement(ctx context.Context, actor csphub.Actor, in PublishAgreementInput) (csphub.Agreement, error) {
	return write(ctx, s, func(tx *store.Tx) (csphub.Agreement, error) {
		if err := agreementPublisher(tx, actor); err != nil {
			return csphub.Agreement{}, err
		}
		in, fields := checkPublication(in, tx.Now())
		known, err := tx.LockRegions(in.Regions)
		if err != nil {
			return csphub.Agreement{}, err
		}
		for _, r := range in.Regions {
			if !slices.Contains(known, r) {
				fields = append(fields, csphub.FieldError{Field: "regions", Code: "unknown_region",
					Message: "has no region " + r})
			}
		}
		if !in.EffectiveAt.IsZero() {
			latest, err := tx.LatestAgreements(known)
			if err != nil {
				return csphub.Agreement{}, err
			}
			for _, r := range known {
				if prev, ok := latest[r]; ok && !in.EffectiveAt.After(prev.EffectiveAt) {
					fields = append(fields, csphub.FieldError{Field: "effective_at", Code: "not_after_previous",
						Message: "must be after " + prev.EffectiveAt.Format(time.RFC3339) + ", when version " + prev.Version +
							" takes effect in region " + r})
				}
			}
		}
		taken := false
		if agreementVersionShape.MatchString(in.Version) {
			if taken, err = tx.AgreementVersionExists(in.Version); err != nil {
				return csphub.Agreement{}, err
			}
		}
		versionTaken := csphub.FieldError{Field: "version", Code: "version_taken",
			Message: "is already used by a published version; choose another version name"}
		if len(fields) > 0 {
			if taken {
				fields = append([]csphub.FieldError{versionTaken}, fields...)
			}
			return csphub.Agreement{}, csphub.Invalid(fields...)
		}
		if taken {
			return csphub.Agreement{}, &csphub.Error{Kind: csphub.KindConflict, Code: "agreement_version_exists",
				Message: "version " + in.Version + " of the agreement was published already", Fields: []csphub.FieldError{versionTaken}}
		}
		a := csphub.Agreement{ID: csphub.NewID(), Version: in.Version, Title: in.Title, Body: in.Body, URL: in.URL,
			EffectiveAt: in.EffectiveAt, PublishedAt: tx.Now(), Regions: in.Regions}
		if err := tx.InsertAgreement(a, actor.ID); err != nil {
			return csphub.Agreement{}, err
		}
		pub := publicationOf(a)
		if err := tx.Audit(actor, csphub.AuditEntry{Action: "agreement.publish", ResourceType: "agreement", ResourceID: a.ID, After: pub}); err != nil {
			return csphub.Agreement{}, err
		}
		if err := tx.Emit(actor, csphub.EventEntry{Type: "agreement.published", Subject: a.ID, Data: pub}); err != nil {
			return csphub.Agreement{}, err
		}
		return a, nil
	})
}

// agreementSignerPhone normalizes the signer's phone number: a number of
// the partner's country may be written in national form; a valid number
// of another country is accepted too, since a signer may live abroad.
func agreementSignerPhone(country, raw string) (string, *csphub.FieldError) {
	phone, fe := countries.NormalizePhone("signer_phone", country, raw)
	if fe == nil || fe.Code != "phone_country_mismatch" {
		return phone, fe
	}
	num, err := phonenumbers.Parse(strings.TrimSpace(raw), country)
	if err != nil || !phonenumbers.IsValidNumber(num) {
		return phone, fe
	}
	return phonenumbers.Format(num, phonenumbers.E164), nil
}

// checkSigner normalizes and checks the signer's details.
func checkSigner(in AcceptAgreementInput, country string) (AcceptAgreementInput, []csphub.FieldError) {
	var fields []csphub.FieldError
	in.SignerName = strings.TrimSpace(in.SignerName)
	if in.SignerName == "" {
		fields = append(fields, csphub.FieldError{Field: "signer_name", Code: "required", Message: "is required: the full name of the person who accepts"})
	} else if fe := checkUserName("signer_name", in.SignerName); fe != nil {
		fields = append(fields, *fe)
	}
	if strings.TrimSpace(in.SignerEmail) == "" {
		fields = append(fields, csphub.FieldError{Field: "signer_email", Code: "required", Message: "is required"})
	} else if email, fe := checkEmail("signer_email", in.SignerEmail); fe != nil {
		fields = append(fields, *fe)
	} else {
		in.SignerEmail = email
	}
	phone, fe := agreementSignerPhone(country, in.SignerPhone)
	if fe != nil {
		fields = append(fields, *fe)
	}
	in.SignerPhone = phone
	return in, fields
}

// AcceptAgreement records that the partner accepts a version of the
// agreement. Only a global admin of the partner, signed in as themselves,
// accepts, and only the version in force for the partner's region; an
// acceptance of a version the partner accepted already answers the
// existing acceptance.
func (s *Service) AcceptAgreement(ctx context.Context, actor csphub.Actor, agreementID string, in AcceptAgreementInput) (csphub.AgreementAcceptance, error) {
	return write(ctx, s, func(tx *store.Tx) (csphub.AgreementAcceptance, error) {
		if err := agreementAcceptor(actor); err != nil {
			return csphub.AgreementAcceptance{}, err
		}
		org, err := agreementOrg(tx, actor, errAgreementAcceptor)
		if err != nil {
			return csphub.AgreementAcceptance{}, err
		}
		if org.Kind != csphub.OrgPartner {
			return csphub.AgreementAcceptance{}, errAgreementPartnerOnly
		}
		// The profile stays locked until commit: acceptances of one
		// partner run one at a time.
		profile, region, ok, err := agreementRegionOf(tx, org.ID, true)
		if err != nil {
			return csphub.AgreementAcceptance{}, err
		}
		if !ok {
			return csphub.AgreementAcceptance{}, errAgreementNotEnrolled
		}
		if !csphub.ValidID(agreementID) {
			return csphub.AgreementAcceptance{}, csphub.NotFound("agreement")
		}
		a, err := tx.Agreement(agreementID)
		if err != nil {
			return csphub.AgreementAcceptance{}, err
		}
		existing, err := tx.AgreementAcceptance(org.ID, a.ID)
		if err == nil {
			return existing, nil
		}
		if csphub.ErrorKind(err) != csphub.KindNotFound {
			return csphub.AgreementAcceptance{}, err
		}
		current, ok, err := tx.CurrentAgreement(region, tx.Now())
		if err != nil {
			return csphub.AgreementAcceptance{}, err
		}
		if !ok || current.ID != a.ID {
			msg := "version " + a.Version + " is not the version in force for your region (" + region + ")"
			if ok {
				msg += "; accept version " + current.Version
			}
			return csphub.AgreementAcceptance{}, csphub.Conflict("not_current_agreement", msg)
		}
		in, fields := checkSigner(in, profile.Address.Country)
		if len(fields) > 0 {
			return csphub.AgreementAcceptance{}, csphub.Invalid(fields...)
		}
		c := csphub.AgreementAcceptance{ID: csphub.NewID(), OrgID: org.ID, AgreementID: a.ID, Version: a.Version, Region: region,
			UserID: actor.ID, SignerName: in.SignerName, SignerEmail: in.SignerEmail, SignerPhone: in.SignerPhone, AcceptedAt: tx.Now()}
		if err := tx.InsertAgreementAcceptance(c); err != nil {
			return csphub.AgreementAcceptance{}, err
		}
		op, err := tx.OperatorOrganization()
		if err != nil && csphub.ErrorKind(err) != csphub.KindNotFound {
			return csphub.AgreementAcceptance{}, err
		}
		if err := tx.Audit(actor, csphub.AuditEntry{Action: "agreement.accept", ResourceType: "agreement_acceptance", ResourceID: c.ID, After: c}); err != nil {
			return csphub.AgreementAcceptance{}, err
		}
		if err := tx.Emit(actor, csphub.EventEntry{Type: "agreement.accepted", Subject: c.ID, Data: c, Audience: []string{op.ID}}); err != nil {
			return csphub.AgreementAcceptance{}, err
		}
		return c, nil
	})
}

// OwnAgreementStatus says where the caller's partner organization stands
// with the agreement of its region; any user or token of a partner.
func (s *Service) OwnAgreementStatus(ctx context.Context, actor csphub.Actor) (csphub.AgreementStatus, error) {
	return read(ctx, s, func(tx *store.Tx) (csphub.AgreementStatus, error) {
		org, err := agreementOrg(tx, actor, errAgreementPartnerOnly)
		if err != nil {
			return csphub.AgreementStatus{}, err
		}
		if org.Kind != csphub.OrgPartner {
			return csphub.AgreementStatus{}, errAgreementPartnerOnly
		}
		return s.agreementStatus(tx, org.ID)
	})
}

// AgreementStatusOf says whether a partner, named by its partner ID, has
// accepted the agreement in force for its region: providers check their
// resellers with it. Any partner or operator user or token may ask; who
// signed, and how to reach them, is shown only to the partner itself and
// to the operator.
func (s *Service) AgreementStatusOf(ctx context.Context, actor csphub.Actor, partnerID string) (csphub.AgreementStatus, error) {
	partnerID = strings.TrimSpace(partnerID)
	switch {
	case partnerID == "":
		return csphub.AgreementStatus{}, csphub.Invalid(csphub.FieldError{Field: "partner_id", Code: "required", Message: "is required"})
	case !agreementPartnerIDShape.MatchString(partnerID):
		return csphub.AgreementStatus{}, csphub.Invalid(csphub.FieldError{Field: "partner_id", Code: "invalid_partner_id", Message: "must be a partner ID: digits only"})
	}
	return read(ctx, s, func(tx *store.Tx) (csphub.AgreementStatus, error) {
		org, err := agreementOrg(tx, actor, errAgreementReaders)
		if err != nil {
			return csphub.AgreementStatus{}, err
		}
		if org.Kind != csphub.OrgPartner && org.Kind != csphub.OrgOperator {
			return csphub.AgreementStatus{}, errAgreementReaders
		}
		orgID, err := tx.PartnerOrgOf(partnerID)
		if err != nil {
			return csphub.AgreementStatus{}, err
		}
		st, err := s.agreementStatus(tx, orgID)
		if err != nil {
			return st, err
		}
		if st.Accepted != nil && org.Kind != csphub.OrgOperator && org.ID != orgID {
			c := *st.Accepted
			st.Accepted = &csphub.AgreementAcceptance{ID: c.ID, AgreementID: c.AgreementID, Version: c.Version, Region: c.Region, AcceptedAt: c.AcceptedAt}
		}
		return st, nil
	})
}
